"""Bare Debian hosts (testbed/barehost.py) to provision, and a recording sink."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from servers.provision.runner import ProvisionTarget
from servers.provision.templates import SiteSpec
from servers.ssh import SSHTarget
from testbed.barehost import BareHost
from testbed.netns import Network

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="bare hosts need root")


@dataclass
class Recorder:
    """A ProvisionSink that keeps every line and step."""

    lines: list[tuple[str, str, str]] = field(default_factory=list)
    steps: list[tuple[str, str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def step_started(self, step: str, server: str) -> None:
        pass

    async def step_finished(self, step, server, status, exit_code, error="") -> None:
        self.steps.append((step, server, status))
        if error:
            self.errors.append(error)

    async def line(self, server: str, stream: str, text: str, ts: float) -> None:
        self.lines.append((server, stream, text))

    def text(self) -> str:
        return "\n".join(text for _s, _st, text in self.lines)


@pytest.fixture(scope="session")
def bare_network() -> Iterator[Network]:
    network = Network.create()
    yield network
    network.close()


_indexes = iter(range(1, 200))


@pytest.fixture
def bare_host(bare_network: Network, tmp_path: Path, ssh_client_key) -> Iterator[BareHost]:
    """A fresh bare host (sshd, nginx, php-fpm as Debian installs them), stopped after."""
    host = BareHost.start(bare_network, next(_indexes), tmp_path / "bare", [ssh_client_key[1]])
    yield host
    host.stop()


def bare_target(host: BareHost, private_key: str) -> ProvisionTarget:
    return ProvisionTarget(host.name, SSHTarget(host=host.address, port=22, username="root",
                                                client_keys=(private_key,),
                                                host_key=host.host_key_line))


def spec(name: str = "shop", **overrides) -> SiteSpec:
    values = dict(name=name, user=f"site-{name}", deploy_path=f"/var/www/{name}",
                  domains=(f"{name}.example.test",))
    values.update(overrides)
    return SiteSpec(**values)
