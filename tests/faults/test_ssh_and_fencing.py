"""Faults under the pipeline, for real: sshd children killed, stale executors, runaway scripts.

Every run goes to a real sshd host; "the connection drops" is the sshd process serving it
being SIGKILLed (testbed.sshd.SshdHost.drop_connections), which leaves the commands it
started running on the host, exactly like a network cut. Scripts append to a marker file
on the server, so the order in which executors really changed it is on record.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from deployments.pipeline import run_deploy
from tests.deployments.pipeline.conftest import (
    RecordingSink,
    Site,
    run,
    wait_for_line,
    without_build_tools,
)
from tests.fixtures.sshd import eventually, process_running

pytestmark = pytest.mark.ssh


@pytest.fixture
def host(make_sshd_host):
    """A private sshd for the deploy target (the repository stays on the session's sshd)."""
    return make_sshd_host()


@pytest.fixture
def deployed(site: Site, host) -> Site:
    """The site with one successful plain-PHP release live on `host`."""
    without_build_tools(site.repo)
    result, _sink = run(run_deploy, site.context(servers=(site.server(host),)))
    assert result.status == "succeeded", result.error
    return site


def marker(site: Site) -> Path:
    return site.deploy_path.parent / "marker"


def test_a_connection_lost_between_switch_and_reload_reconnects_and_reloads(deployed, host):
    reloads = marker(deployed)
    ctx = deployed.context(
        servers=(deployed.server(host),), reload_method="php-fpm",
        reload_command=("sh", "-c", f"echo reloaded >> {reloads}"),
    )
    dropped = []

    def cut_after_switch(step: str, _server: str, _status: str) -> None:
        if step == "activate":
            dropped.append(host.drop_connections())

    result, sink = run(run_deploy, ctx, RecordingSink(on_finished=cut_after_switch))

    assert dropped and dropped[0] > 0
    assert result.status == "succeeded", result.error
    assert deployed.live() == ctx.release
    assert reloads.read_text() == "reloaded\n"
    assert "connection lost; reconnected" in sink.text()


async def test_a_connection_lost_mid_step_stops_the_orphan_and_removes_the_release(
    deployed, host
):
    live_before = deployed.live()
    ctx = deployed.context(
        servers=(deployed.server(host),), deploy_script="echo started; sleep 97.25; echo late",
    )
    sink = RecordingSink()
    running = asyncio.create_task(run_deploy(ctx, sink))
    await wait_for_line(sink, "started")
    assert process_running("sleep 97.25")

    host.drop_connections()
    result = await running

    assert (result.status, result.failed_step) == ("failed", "custom_script")
    assert "connection lost" in result.error
    assert await eventually(lambda: not process_running("sleep 97.25"))
    assert deployed.live() == live_before
    assert not (deployed.deploy_path / "releases" / ctx.release).exists()
    assert "connection lost; reconnected" in sink.text()
    assert sink.status("stop_processes") == sink.status("discard_release") == "succeeded"


async def test_a_newer_epoch_takes_over_and_the_stale_executor_changes_nothing(deployed, host):
    order = marker(deployed)
    server = (deployed.server(host),)
    stale = deployed.context(servers=server, epoch=100, deploy_script=(
        f"echo stale-start >> {order}; echo started; sleep 96.5; echo stale-end >> {order}"
    ))
    newer = deployed.context(servers=server, epoch=101,
                             deploy_script=f"echo newer >> {order}")
    stale_sink = RecordingSink()
    stale_run = asyncio.create_task(run_deploy(stale, stale_sink))
    await wait_for_line(stale_sink, "started")

    newer_sink = RecordingSink()
    newer_result = await run_deploy(newer, newer_sink)
    stale_result = await stale_run

    assert newer_result.status == "succeeded", newer_result.error
    assert stale_result.status == "failed"
    assert deployed.live() == newer.release
    assert order.read_text() == "stale-start\nnewer\n"  # the stale script never went on
    assert not process_running("sleep 96.5")
    assert f"taking the lock over from deployment {stale.deployment_id}" in newer_sink.text()


async def test_a_paused_executor_that_wakes_up_after_a_takeover_cannot_switch(deployed, host):
    server = (deployed.server(host),)
    paused = deployed.context(servers=server, epoch=200)
    newer = deployed.context(servers=server, epoch=201)
    wake_up, at_the_switch = asyncio.Event(), asyncio.Event()

    async def pause_before_the_switch(step: str, _server: str, _status: str) -> None:
        if step == "stack_check":
            at_the_switch.set()
            await wake_up.wait()

    paused_sink = RecordingSink(on_finished=pause_before_the_switch)
    paused_run = asyncio.create_task(run_deploy(paused, paused_sink))
    await asyncio.wait_for(at_the_switch.wait(), 60)
    newer_result = await run_deploy(newer, RecordingSink())
    wake_up.set()
    paused_result = await paused_run

    assert newer_result.status == "succeeded", newer_result.error
    assert (paused_result.status, paused_result.failed_step) == ("failed", "activate")
    assert "fenced off" in paused_result.error
    assert deployed.live() == newer.release
    assert paused_sink.status("switch_back") is None  # no undo once fenced off


def test_an_older_epoch_is_refused_before_anything_is_created(deployed, host):
    server = (deployed.server(host),)
    assert run(run_deploy, deployed.context(servers=server, epoch=300))[0].status == "succeeded"
    late = deployed.context(servers=server, epoch=299)

    result, _sink = run(run_deploy, late)

    assert (result.status, result.failed_step) == ("failed", "prepare")
    assert "newer epoch 300" in result.error
    assert not (deployed.deploy_path / "releases" / late.release).exists()


def test_a_step_timeout_ends_timed_out_and_stops_a_child_that_left_its_group(deployed, host):
    live_before = deployed.live()
    ctx = deployed.context(
        servers=(deployed.server(host),), step_timeout=3,
        deploy_script="setsid sleep 95.75 & echo started; sleep 94.5",
    )

    result, sink = run(run_deploy, ctx)

    assert (result.status, result.failed_step) == ("timed_out", "custom_script")
    assert sink.status("custom_script") == "timed_out"
    assert not process_running("sleep 95.75") and not process_running("sleep 94.5")
    assert deployed.live() == live_before
