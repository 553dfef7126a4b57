"""Several servers: prepare all in parallel, switch the first alone and then the others
together, never leave a half-switch."""

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
    yield from _cluster(("web1", "web2"), tmp_path, site, make_sshd_host, web_stack_factory)


@pytest.fixture
def trio(tmp_path, site: Site, make_sshd_host, web_stack_factory, ssh_client_key):
    yield from _cluster(("web1", "web2", "web3"), tmp_path, site, make_sshd_host,
                        web_stack_factory)


def _cluster(names, tmp_path, site: Site, make_sshd_host, web_stack_factory):
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    site.deploy_path = mount_point / "site"  # the same path on every server
    specs, servers, daemons = [], {}, []
    for name in names:
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


def breaking_web2_switch(servers: dict[str, Server]) -> RecordingSink:
    """A sink that, once web2 is prepared, puts a hand-made directory where web2's `current`
    symlink was: its switch (`mv -T`) then fails."""
    web2_current = servers["web2"].site_dir / "current"

    def break_web2_after_prepare(step: str, server: str, status: str) -> None:
        if (step, server) == ("custom_script", "web2"):
            web2_current.unlink()
            web2_current.mkdir()  # a real directory: `mv -T` cannot replace it
            (web2_current / "index.html").write_text("someone's hand-made site")

    return RecordingSink(on_finished=break_web2_after_prepare)


def test_it_switches_the_first_server_back_when_the_second_switch_fails(cluster):
    sink = breaking_web2_switch(cluster.servers)
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


class OrderSink(RecordingSink):
    """A RecordingSink that also keeps starts and ends in one list, in the order they came."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.order: list[tuple[str, str, str]] = []

    async def step_started(self, step: str, server: str) -> None:
        self.order.append(("start", step, server))
        await super().step_started(step, server)

    async def step_finished(self, step, server, status, exit_code, error="") -> None:
        self.order.append(("end", step, server))
        await super().step_finished(step, server, status, exit_code, error)


def test_the_first_server_is_live_and_healthy_before_any_other_switches(trio):
    sink = OrderSink()
    ctx = trio.context(preset="none")

    result, _sink = run(run_deploy, ctx, sink)

    assert result.status == "succeeded", result.error
    first_healthy = sink.order.index(("end", "health_check_live", "web1"))
    for other in ("web2", "web3"):
        assert sink.order.index(("start", "activate", other)) > first_healthy
    assert {server.live() for server in trio.servers.values()} == {ctx.release}


def test_a_failed_switch_among_the_others_switches_every_server_back(trio):
    sink = breaking_web2_switch(trio.servers)
    result, _sink = run(run_deploy, trio.context(preset="none"), sink)

    assert (result.status, result.failed_step) == ("failed", "activate")
    # web3 switched beside web2 and was not stopped halfway: switched, then switched back.
    for server in ("web1", "web3"):
        assert [sink.status("activate", server), sink.status("switch_back", server)] == [
            "succeeded"
        ] * 2
        assert trio.servers[server].live() == trio.first_release
