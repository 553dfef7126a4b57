"""Through the worker, on the real stage: a deployment ships (and records) the site's newest
environment version into its own release, a rollback brings back its target's, the site's
hooks run, and a cancel during the deploy script never goes live."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from deployments.models import LogLine, Status, Trigger
from deployments.services import deployment_cancel, rollback_request
from deployments.tasks import run_deployment
from sites.selectors import env_changes_since, env_version_latest
from sites.services import site_env_update, site_hooks_update, site_update
from tenancy.audit import Actor
from tests.deployments.pipeline.conftest import remote_processes
from tests.fixtures.stage import Stage, finished, wait_until

pytestmark = [pytest.mark.ssh, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _deployed(stage: Stage, version: str):
    deployment = stage.deploy(stage.release(version))
    run_deployment(deployment.pk)
    deployment.refresh_from_db()
    return deployment


def _run_and_close(deployment_id: int) -> None:
    try:
        run_deployment(deployment_id)
    finally:
        connection.close()  # this thread's own connection, or the test database stays in use


def _set_env(stage: Stage, cast, **env):
    site_env_update(site=stage.site, actor=Actor(user=cast.developer),
                    env={**stage.site.env, **env}, secret_env_names=[])


def _live_env(stage: Stage) -> str:
    return (stage.deploy_path / "current/.env").read_text()


def test_it_records_the_version_it_shipped_and_what_changed_since(stage: Stage, cast):
    first = _deployed(stage, "1.0.0")
    _set_env(stage, cast, APP_NAME="Renamed", NEW_KEY="x")
    assert (first.env_version.number, env_version_latest(site=stage.site).number) == (1, 2)
    changes = env_changes_since(stage.site, first.env_version)
    assert (changes.added, changes.changed) == (["NEW_KEY"], ["APP_NAME"])
    assert "APP_NAME=Demo" in _live_env(stage)  # applies at the next deploy


def test_a_failed_deploy_leaves_the_live_env_and_a_rollback_restores_it(stage: Stage, cast):
    first = _deployed(stage, "1.0.0")
    _set_env(stage, cast, APP_NAME="Second")
    second = _deployed(stage, "2.0.0")
    _set_env(stage, cast, APP_NAME="Third")
    site_update(site=stage.site, actor=Actor(user=cast.owner), deploy_script="exit 3")
    assert _deployed(stage, "3.0.0").status == Status.FAILED
    assert "APP_NAME=Second" in _live_env(stage) and second.env_version.number == 2
    rollback = rollback_request(site=stage.site, release=first.release, actor=Actor.system(),
                                trigger=Trigger.MANUAL)
    run_deployment(rollback.pk)
    rollback.refresh_from_db()
    assert (rollback.status, rollback.env_version.number) == (Status.SUCCEEDED, 1)
    assert "APP_NAME=Demo" in _live_env(stage)


def test_the_sites_hooks_run_and_a_failing_one_before_the_switch_keeps_the_old_release(
    stage: Stage, cast
):
    first = _deployed(stage, "1.0.0")
    site_hooks_update(site=stage.site, actor=Actor(user=cast.manager), hooks={
        "before_switch": ("echo checking; exit 7", 60), "on_failure": ("echo cleaning up", 60),
    })
    failed = _deployed(stage, "2.0.0")
    lines = set(LogLine.objects.filter(deployment=failed).values_list("text", flat=True))
    assert (failed.status, failed.failed_step) == (Status.FAILED, "hook_before_switch")
    assert {"checking", "cleaning up"} <= lines
    assert (stage.deploy_path / "current").readlink().name == first.release


def test_a_cancel_during_the_deploy_script_never_goes_live(stage: Stage, cast):
    first = _deployed(stage, "1.0.0")
    reloaded = stage.deploy_path.parent / "reloaded"
    site_update(site=stage.site, actor=Actor(user=cast.owner), reload_method="php-fpm",
                reload_command=["touch", str(reloaded)],
                deploy_script="echo slow-step; sleep 968.5")
    deployment = stage.deploy(stage.release("2.0.0"))
    runner = threading.Thread(target=_run_and_close, args=(deployment.pk,))
    runner.start()
    wait_until(lambda: LogLine.objects.filter(deployment=deployment, text="slow-step").exists(),
               what="the deploy script")
    deployment_cancel(deployment=deployment, actor=Actor(user=cast.developer))
    [deployment] = finished(deployment, timeout=60)
    runner.join(60)
    assert (deployment.status, deployment.failed_step) == (Status.CANCELLED, "custom_script")
    assert (stage.deploy_path / "current").readlink().name == first.release
    assert not reloaded.exists() and remote_processes("sleep 968.5") == ""
    assert not deployment.steps.filter(name__in=["activate", "reload"]).exists()
