"""Named hooks run as steps of their own at their points; a failing one before the switch
fails the deploy with nothing live changed, and the on-failure hook runs when a deploy fails."""

from __future__ import annotations

import pytest

from deployments.pipeline import Hook, run_deploy
from tests.deployments.pipeline.conftest import (
    Site,
    remote_processes,
    run,
    without_build_tools,
)

pytestmark = [pytest.mark.ssh]

EVERY_POINT = tuple(
    Hook(point, f'echo "hook {point} in $(basename "$PWD")"')
    for point in ("after_fetch", "before_switch", "after_switch", "after_cleanup")
)


def _live_site(site: Site) -> str:
    without_build_tools(site.repo)
    ctx = site.context()
    assert run(run_deploy, ctx)[0].status == "succeeded"
    return ctx.release


def test_it_runs_each_hook_as_its_own_step_in_order(site: Site):
    without_build_tools(site.repo)
    ctx = site.context(hooks=EVERY_POINT)

    result, sink = run(run_deploy, ctx)

    hooks = [step for step, _server, status in sink.steps if step.startswith("hook_")]
    assert result.status == "succeeded"
    assert hooks == ["hook_after_fetch", "hook_before_switch", "hook_after_switch",
                     "hook_after_cleanup"]
    assert f"hook before_switch in {ctx.release}" in sink.text()


def test_it_leaves_out_the_points_without_a_script(site: Site):
    without_build_tools(site.repo)

    _result, sink = run(run_deploy, site.context())

    assert not [step for step, _server, _status in sink.steps if step.startswith("hook_")]


def test_a_failing_before_switch_hook_changes_nothing_live_and_runs_on_failure(site: Site):
    live = _live_site(site)
    marker = site.deploy_path / "failed-marker"
    hooks = (Hook("before_switch", "echo nope >&2; exit 4"),
             Hook("on_failure", f"echo failed > {marker}"))
    ctx = site.context(hooks=hooks)

    result, sink = run(run_deploy, ctx)

    assert (result.status, result.failed_step) == ("failed", "hook_before_switch")
    assert site.live() == live and sink.status("activate") is None
    assert marker.read_text() == "failed\n"
    assert not site.release_dir(ctx).exists()


def test_it_kills_a_hook_past_its_timeout_and_fails_before_the_switch(site: Site):
    live = _live_site(site)
    ctx = site.context(hooks=(Hook("after_fetch", "sleep 975.5", timeout=1),))

    result, _sink = run(run_deploy, ctx)

    assert (result.status, result.failed_step) == ("failed", "hook_after_fetch")
    assert "ran past its timeout of 1s" in result.error
    assert remote_processes("sleep 975.5") == "" and site.live() == live


def test_a_failing_after_cleanup_hook_leaves_the_release_live(site: Site):
    without_build_tools(site.repo)
    ctx = site.context(hooks=(Hook("after_cleanup", "exit 5"),))

    result, sink = run(run_deploy, ctx)

    assert result.status == "succeeded"
    assert (site.live(), sink.status("hook_after_cleanup")) == (ctx.release, "failed")
