"""A worker killed after the switch: the panel and the server disagree until reconcile says so.

Real Celery workers (two: one is killed), a real sshd host, real git. The deploy's reload
waits, so the worker is SIGKILLed after `current` already names the new release; the
watchdog declares the deployment lost (failed) and the status signal has the surviving
worker reconcile the site. The site page then shows the drift, and the rollback that the
operator needs (to the release the panel believes live) is offered and succeeds, where
the rows alone answered "already live".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from deployments import selectors
from deployments.models import Deployment, LogLine, ServerReleaseFacts, Status, Trigger
from deployments.services import rollback_request
from deployments.tasks import watchdog
from sites.services import site_update
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tests.deployments.test_end_to_end import _worker_running
from tests.deployments.workers import Worker, purge_queues
from tests.fixtures.stage import Stage, finished, make_stage, wait_until

pytestmark = [
    pytest.mark.ssh, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def workers(transactional_db, tmp_path: Path):
    purge_queues()
    # As in production: deploy workers, and the control worker that runs (among others) the
    # reconcile after a lost deployment.
    started = [Worker.start("w1", tmp_path), Worker.start("w2", tmp_path),
               Worker.start("control", tmp_path, queues=("control",))]
    yield started
    for worker in started:
        worker.stop()


@pytest.fixture
def stage(cast, sshd_host, tmp_path: Path, workers) -> Stage:
    return make_stage(cast, sshd_host, tmp_path)


def facts_after(stage: Stage, deployment: Deployment) -> ServerReleaseFacts:
    """The facts the status receiver's reconcile stored once `deployment` had finished."""

    def fresh():
        row = Deployment.objects.get(pk=deployment.pk)
        return row.is_finished and ServerReleaseFacts.objects.filter(
            site=stage.site, observed_at__gte=row.finished_at).first()

    return wait_until(fresh, timeout=90, what=f"a reconcile after #{deployment.pk}")


def _state(deployment: Deployment, workers: list[Worker]) -> str:
    """The deployment's row, its last log lines and the workers' log tails, for a failure."""
    row = Deployment.objects.get(pk=deployment.pk)
    lines = LogLine.objects.filter(deployment=row).order_by("-seq")[:10]
    logs = "\n".join(f"--- {w.name}\n{w.log.read_text()[-2000:]}" for w in workers)
    shown = "\n".join(line.text for line in reversed(lines))
    return f"#{row.pk} {row.status} {row.error!r}\n{shown}\n{logs}"


@override_settings(DEPLOY_WATCHDOG_SECONDS=4)
def test_a_worker_lost_after_the_switch_shows_drift_and_the_rollback_is_offered(
    stage, workers, cast, client_for
):
    [good] = finished(stage.deploy(stage.release("1.0.0")))
    assert good.status == Status.SUCCEEDED, good.error
    assert facts_after(stage, good).drift == []
    site_update(site=stage.site, actor=Actor.system(), reload_method="php-fpm",
                reload_command=["sh", "-c", "echo reloading; sleep 30"])
    lost = stage.deploy(stage.release("2.0.0"))
    try:
        wait_until(lambda: LogLine.objects.filter(deployment=lost, text="reloading").exists(),
                   what="the reload, after the switch")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{_state(lost, workers)}") from None
    wait_until(lambda: _worker_running(workers, lost.pk), what="its worker").kill()
    site_update(site=stage.site, actor=Actor.system(), reload_method="none")

    wait_until(lambda: watchdog()["failed"], timeout=60, what="the watchdog")

    [lost] = finished(lost)
    assert lost.status == Status.FAILED and "worker lost" in lost.error
    assert (stage.deploy_path / "current").readlink().name == lost.release
    seen = facts_after(stage, lost)
    assert seen.current_release == lost.release
    assert seen.drift == [f"serves {lost.release}; the panel believes {good.release} live"]
    assert AuditEvent.objects.filter(verb="site.reconciled", after__drift__has_key="web-1").exists()
    page = client_for(cast.viewer).get(
        reverse("sites:detail", kwargs={"org": "acme", "pk": stage.site.pk})).content.decode()
    assert 'data-drift="web-1"' in page
    offered = {t.release: t for t in selectors.rollback_targets(site=stage.site)}
    assert set(offered) == {good.release} and offered[good.release].previously_live

    rollback = rollback_request(site=stage.site, release=good.release, actor=Actor.system(),
                                trigger=Trigger.MANUAL)

    [rollback] = finished(rollback)
    assert rollback.status == Status.SUCCEEDED, rollback.error
    assert (stage.deploy_path / "current").readlink().name == good.release
    assert facts_after(stage, rollback).drift == []
    # The release of the lost deploy is complete on disk (REVISION): it may be rolled to.
    [again] = selectors.rollback_targets(site=stage.site)
    assert (again.release, again.deployment.status) == (lost.release, Status.FAILED)
    assert again.commit == Deployment.objects.get(pk=lost.pk).commit_sha
