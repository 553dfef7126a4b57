"""Failures, cancellation and refusals leave the live release untouched and nothing behind.

The module deploys one site once (without composer/npm, so failing deploys are
fast); every test then tries a deploy that must not change what is live.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
from dataclasses import dataclass

import pytest

from deployments.pipeline import ServerSpec, run_deploy
from testbed.web import SiteRoot, WebStack
from tests.deployments.pipeline.conftest import (
    LOCK_FILES,
    RecordingSink,
    Site,
    make_site,
    remote_processes,
    run,
    wait_for_line,
    without_build_tools,
)

pytestmark = [pytest.mark.ssh, pytest.mark.web]


@dataclass
class Live:
    site: Site
    stack: WebStack
    release: str
    body: bytes

    def assert_untouched(self, failed_release: str) -> None:
        """Still live and served, and the failed release is gone."""
        assert self.site.live() == self.release
        assert self.stack.get("/") == (200, self.body)
        assert not (self.site.deploy_path / "releases" / failed_release).exists()


@pytest.fixture(scope="module")
def live(tmp_path_factory, sshd_host, ssh_client_key, deploy_key):
    site = make_site(tmp_path_factory.mktemp("fail"), sshd_host, ssh_client_key[0], deploy_key)
    without_build_tools(site.repo)
    stack = WebStack.start(site.deploy_path.parent / "web", sites=[SiteRoot(site.deploy_path)])
    ctx = site.context()
    result, _sink = run(run_deploy, ctx)
    assert result.status == "succeeded"
    yield Live(site, stack, ctx.release, stack.get("/")[1])
    stack.stop()


def test_it_reports_the_failed_step_with_its_last_lines(live):
    ctx = live.site.context(deploy_script="echo about to fail >&2; exit 3")

    result, sink = run(run_deploy, ctx)

    assert (result.status, result.failed_step) == ("failed", "custom_script")
    assert "exited with 3" in result.error and "about to fail" in result.error
    assert sink.status("discard_release") == "succeeded"


def test_it_keeps_current_and_removes_the_failed_release_and_key(live):
    ctx = live.site.context(deploy_script="exit 3")

    run(run_deploy, ctx)

    live.assert_untouched(ctx.release)
    state = live.site.deploy_path / ".deploynix"
    assert sorted(p.name for p in state.iterdir()) == sorted(
        LOCK_FILES + ["created", "releases.log", "site"]
    )
    assert not (live.site.deploy_path / f"current.tmp.{ctx.deployment_id}").exists()


async def test_it_cancels_mid_step_killing_the_remote_command(live):
    cancel, sink = asyncio.Event(), RecordingSink()
    ctx = live.site.context(deploy_script="echo started; sleep 987.6")
    task = asyncio.create_task(run_deploy(ctx, sink, cancel))
    await wait_for_line(sink, "started")

    cancel.set()
    result = await task

    assert (result.status, result.failed_step) == ("cancelled", "custom_script")
    assert remote_processes("sleep 987.6") == ""
    live.assert_untouched(ctx.release)


def test_it_stops_a_step_that_runs_past_its_timeout(live):
    ctx = live.site.context(deploy_script="sleep 986.5", step_timeout=8)

    result, _sink = run(run_deploy, ctx)

    assert "custom_script timed out after 8s" in result.error
    assert remote_processes("sleep 986.5") == ""
    live.assert_untouched(ctx.release)


@pytest.mark.parametrize(
    "overrides",
    [
        {"branch": "--upload-pack=touch /tmp/deploynix-pwned"},
        {"branch": "main;touch /tmp/deploynix-pwned"},
        {"branch": "$(touch /tmp/deploynix-pwned)"},
        {"repository_url": "ext::sh -c touch% /tmp/deploynix-pwned"},
        {"repository_url": "-oProxyCommand=touch /tmp/deploynix-pwned"},
        {"repository_url": "file:///etc"},
    ],
)
def test_it_refuses_hostile_branches_and_urls_literally(live, overrides):
    ctx = live.site.context(**overrides)

    result, _sink = run(run_deploy, ctx)

    assert (result.status, result.failed_step) == ("failed", "fetch_code")
    assert not os.path.exists("/tmp/deploynix-pwned")
    live.assert_untouched(ctx.release)


def test_it_refuses_when_free_disk_space_is_below_the_minimum(live):
    ctx = live.site.context(min_free_mb=10**9)

    result, _sink = run(run_deploy, ctx)

    assert (result.failed_step, result.status) == ("prepare", "failed")
    assert "MB required" in result.error
    live.assert_untouched(ctx.release)


def mark_as_ours(site: Site) -> None:
    """A site Deploynix created (a foreign non-empty directory is refused before anything)."""
    (site.deploy_path / ".deploynix").mkdir()
    (site.deploy_path / ".deploynix" / "site").write_text("")


def test_it_refuses_a_real_current_directory(site: Site):
    (site.deploy_path / "current").mkdir(parents=True)
    mark_as_ours(site)

    result, _sink = run(run_deploy, site.context())

    assert (result.failed_step, result.status) == ("prepare", "failed")
    assert "is a real directory, not a symlink" in result.error
    assert (site.deploy_path / "current").is_dir()


def test_it_never_discards_a_release_directory_it_did_not_create(site: Site):
    ctx = site.context()
    existing = site.release_dir(ctx)
    existing.mkdir(parents=True)
    (existing / "keep-me").write_text("not ours")
    mark_as_ours(site)

    result, _sink = run(run_deploy, ctx)

    assert "already exists" in result.error
    assert (existing / "keep-me").read_text() == "not ours"


def test_it_stops_everything_at_the_overall_timeout(live):
    ctx = live.site.context(deploy_script="sleep 985.5", total_timeout=4)

    result, _sink = run(run_deploy, ctx)

    assert (result.status, result.error) == ("timed_out", "timed out after 4s")
    assert remote_processes("sleep 985.5") == ""
    live.assert_untouched(ctx.release)


class ExplodingSink(RecordingSink):
    """A sink that breaks its contract (raises) on one line."""

    async def line(self, server: str, stream: str, text: str, ts: float) -> None:
        if text == "explode":
            raise RuntimeError("sink broke")
        await super().line(server, stream, text, ts)


def test_it_ends_failed_and_cleans_up_even_when_the_sink_raises(live):
    ctx = live.site.context(deploy_script="echo explode; sleep 984.5")

    result, _sink = run(run_deploy, ctx, ExplodingSink())

    assert (result.status, result.failed_step) == ("failed", "custom_script")
    assert "internal error: RuntimeError: sink broke" in result.error
    live.assert_untouched(ctx.release)


def test_it_switches_nothing_when_another_server_is_unreachable(live):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    port = closed.getsockname()[1]
    down = ServerSpec("web2", dataclasses.replace(live.site.server().target, port=port))
    ctx = live.site.context(servers=(live.site.server(), down))

    result, _sink = run(run_deploy, ctx)
    closed.close()

    assert (result.failed_step, result.error) == (
        "prepare",
        f"web2: unreachable: 127.0.0.1:{port} (connection refused)",
    )
    live.assert_untouched(ctx.release)


def test_it_never_switches_when_a_cancel_arrives_as_the_last_step_before_it_ends(live):
    sink = RecordingSink()

    def cancel_asked_during_the_script(step: str, _server: str, _status: str) -> None:
        if step == "custom_script":  # the cancel Event (the sink's poll) has not fired yet
            sink.cancel_asked = True

    sink.on_finished = cancel_asked_during_the_script
    ctx = live.site.context(deploy_script="echo built")
    result, _sink = run(run_deploy, ctx, sink)

    assert (result.status, result.error) == ("cancelled", "cancelled on request")
    assert sink.status("activate") is None and sink.status("reload") is None
    live.assert_untouched(ctx.release)
