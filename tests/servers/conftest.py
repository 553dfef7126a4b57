"""Fixtures for the servers app: servers of the cast organization on real sshd hosts."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from servers.models import OrganizationKey, Server
from servers.services import server_create
from tenancy.audit import Actor
from testbed.sshd import SshdHost


@pytest.fixture
def org_key(cast) -> OrganizationKey:
    """The cast organization's active SSH key."""
    return OrganizationKey.objects.get(organization=cast.org, superseded_at__isnull=True)


@pytest.fixture
def org_host(make_sshd_host, org_key) -> SshdHost:
    """A private sshd host that authorizes the cast organization's key (restartable)."""
    return make_sshd_host(authorized_keys=[org_key.public_key])


@pytest.fixture
def add_server(cast) -> Callable[..., Server]:
    """Create a server of the cast organization through the service (as the manager)."""

    def add(sshd: SshdHost | None = None, *, name: str = "web-1", **fields) -> Server:
        if sshd is not None:
            fields.update(host=sshd.host, port=sshd.port, user=sshd.user)
        fields.setdefault("host", "127.0.0.1")
        return server_create(org=cast.org, actor=Actor(user=cast.manager), name=name, **fields)

    return add


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def eager_celery():
    """Run `.delay()` in-process (no broker, no worker), so on_commit enqueues really execute."""
    from deploynix.celery import app

    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = False
