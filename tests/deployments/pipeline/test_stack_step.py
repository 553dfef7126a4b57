"""The stack check in the pipeline: warnings shown before the switch, a harmful reload skipped."""

from __future__ import annotations

from dataclasses import replace

import pytest

from deployments.pipeline import DEPLOY_STEPS, run_deploy
from tests.deployments.pipeline.conftest import run, without_build_tools

pytestmark = [pytest.mark.ssh]


def test_it_checks_the_stack_right_before_the_switch():
    between = DEPLOY_STEPS[DEPLOY_STEPS.index("stack_check") + 1 : DEPLOY_STEPS.index("activate")]
    assert between == ("health_check",)  # only the health gate's probe of the new release


def test_it_shows_the_stack_warnings_before_activating(site):
    without_build_tools(site.repo)
    server = replace(site.server(), stack_warnings=("error: SCRIPT_FILENAME is $document_root",))
    result, sink = run(run_deploy, site.context(servers=(server,)))
    assert result.status == "succeeded", result.error
    assert "stack check: error: SCRIPT_FILENAME is $document_root" in sink.text()
    assert sink.status("stack_check") == "succeeded"


def test_it_skips_a_reload_the_stack_check_found_harmful(site, tmp_path):
    without_build_tools(site.repo)
    marker = tmp_path / "reloaded"
    reload_command = ("touch", str(marker))
    ctx = site.context(reload_method="php-fpm", reload_command=reload_command,
                       servers=(replace(site.server(), reload="skip"),))
    result, sink = run(run_deploy, ctx)
    assert result.status == "succeeded" and sink.status("reload") == "skipped"
    assert not marker.exists()


def test_it_reloads_when_the_stack_check_allows(site, tmp_path):
    without_build_tools(site.repo)
    marker = tmp_path / "reloaded"
    ctx = site.context(reload_method="php-fpm", reload_command=("touch", str(marker)))
    result, _ = run(run_deploy, ctx)
    assert result.status == "succeeded" and marker.exists()
