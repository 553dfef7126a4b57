"""Fixtures for the servers app: servers of the cast organization on real sshd hosts."""

from __future__ import annotations

import socket

import pytest

from servers.models import Server
from testbed.sshd import SshdHost


@pytest.fixture
def server(add_server) -> Server:
    """The servers app's own tests make their server through the service, as the manager."""
    return add_server(name="web-1", host="10.0.0.5")


@pytest.fixture
def org_host(make_sshd_host, org_key) -> SshdHost:
    """A private sshd host that authorizes the cast organization's key (restartable)."""
    return make_sshd_host(authorized_keys=[org_key.public_key])


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
