"""Several servers: prepare all in parallel, switch one at a time, never leave a half-switch."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from deployments.pipeline import run_deploy
from testbed.web import SiteRoot, WebStack
from tests.deployments.pipeline.conftest import RecordingSink, Site, run, without_build_tools
from tests.deployments.pipeline.private_sshd import PrivateSshd

pytestmark = [pytest.mark.ssh, pytest.mark.web, pytest.mark.slow]


@dataclass
class Server:
    site_dir: Path  # the deploy path as seen from outside the server's namespace
    stack: WebStack

    def live(self) -> str:
        return (self.site_dir / "current").readlink().name

    def served(self) -> bytes:
        return self.stack.get("/")[1]


@dataclass
class Cluster:
    site: Site
    servers: dict[str, Server]
    specs: tuple = ()
    first_release: str = ""

    def context(self, **overrides):
        return self.site.context(servers=self.specs, **overrides)


@pytest.fixture
def cluster(tmp_path, site: Site, make_sshd_host, web_stack_factory, ssh_client_key):
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    site.deploy_path = mount_point / "site"  # the same path on every server
    specs, servers, daemons = [], {}, []
    for name in ("web1", "web2"):
        private = tmp_path / name
        private.mkdir()
        host = make_sshd_host()
        daemons.append(PrivateSshd.start(host, private, mount_point))
        specs.append(site.server(host, name))
        servers[name] = Server(private / "site", web_stack_factory([SiteRoot(private / "site")]))
    without_build_tools(site.repo)
    cluster = Cluster(site, servers, tuple(specs))
    first = cluster.context(preset="none")
    assert run(run_deploy, first)[0].status == "succeeded"
    cluster.first_release = first.release
    yield cluster
    for daemon in daemons:
        daemon.stop()


def test_it_deploys_to_every_server(cluster):
    bodies = {name: server.served() for name, server in cluster.servers.items()}

    assert {server.live() for server in cluster.servers.values()} == {cluster.first_release}
    assert all(
        body.startswith(f"release={cluster.first_release} ".encode()) for body in bodies.values()
    )


def test_it_switches_no_server_when_one_fails_to_prepare(cluster):
    (cluster.servers["web2"].site_dir / "fail-build").touch()
    ctx = cluster.context(preset="none", build_commands=("test ! -e ../../fail-build",))

    result, sink = run(run_deploy, ctx)

    assert (result.status, result.failed_step) == ("failed", "build_assets")
    assert [server.live() for server in cluster.servers.values()] == [cluster.first_release] * 2
    assert not any(
        (s.site_dir / "releases" / ctx.release).exists() for s in cluster.servers.values()
    )


def test_it_switches_the_first_server_back_when_the_second_switch_fails(cluster):
    web2_current = cluster.servers["web2"].site_dir / "current"

    def break_web2_after_prepare(step: str, server: str, status: str) -> None:
        if (step, server) == ("custom_script", "web2"):
            web2_current.unlink()
            web2_current.mkdir()  # a real directory: `mv -T` cannot replace it
            (web2_current / "index.html").write_text("someone's hand-made site")

    sink = RecordingSink(on_finished=break_web2_after_prepare)
    result, _sink = run(run_deploy, cluster.context(preset="none"), sink)

    assert (result.status, result.failed_step) == ("failed", "activate")
    assert [sink.status("activate", "web1"), sink.status("switch_back", "web1")] == [
        "succeeded"
    ] * 2
    assert cluster.servers["web1"].live() == cluster.first_release
    assert cluster.servers["web1"].served().startswith(f"release={cluster.first_release} ".encode())


async def test_it_switches_back_when_cancelled_after_the_first_switch(cluster):
    cancel = asyncio.Event()

    def cancel_after_web1_switched(step: str, server: str, status: str) -> None:
        if (step, server) == ("activate", "web1"):
            cancel.set()

    sink = RecordingSink(on_finished=cancel_after_web1_switched)
    result = await run_deploy(cluster.context(preset="none"), sink, cancel)

    assert result.status == "cancelled"
    assert sink.status("switch_back", "web1") == "succeeded"
    assert [server.live() for server in cluster.servers.values()] == [cluster.first_release] * 2
