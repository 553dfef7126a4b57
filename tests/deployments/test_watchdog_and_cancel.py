"""The watchdog frees a site whose worker died; cancel stops queued and running deployments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from deployments import lifecycle
from deployments.models import Deployment, DeploymentStep, Status, Trigger
from deployments.services import DeploymentError, deployment_cancel, deployment_request
from deployments.tasks import watchdog
from tenancy.audit import Actor


@pytest.fixture
def queued(site, cast):
    def make(commit: str) -> Deployment:
        return deployment_request(
            site=site, actor=Actor(user=cast.developer), trigger=Trigger.MANUAL, commit=commit
        )

    return make


def _stall(deployment: Deployment, seconds: int) -> None:
    """Pretend the worker stopped beating `seconds` ago."""
    Deployment.objects.filter(pk=deployment.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_it_fails_a_running_deployment_whose_worker_was_lost(
    queued, django_capture_on_commit_callbacks
):
    running = queued("a" * 40)
    lifecycle.deployment_claim(running.pk)
    waiting = queued("b" * 40)
    DeploymentStep.objects.create(deployment=running, name="install", order=1)
    _stall(running, settings.DEPLOY_WATCHDOG_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = watchdog()
    running.refresh_from_db()
    assert outcome["failed"] == [running.pk]
    assert (running.status, running.failed_step) == (Status.FAILED, "install")
    assert "worker lost" in running.error
    assert Deployment.objects.get(pk=waiting.pk).enqueued_at is not None


def test_it_leaves_a_deployment_with_a_fresh_heartbeat_alone(queued):
    running = queued("a" * 40)
    lifecycle.deployment_claim(running.pk)
    _stall(running, settings.DEPLOY_WATCHDOG_SECONDS - 10)
    assert watchdog()["failed"] == []
    assert Deployment.objects.get(pk=running.pk).status == Status.RUNNING


def test_it_resends_a_queued_deployment_whose_task_was_lost(queued):
    stranded = queued("a" * 40)
    Deployment.objects.filter(pk=stranded.pk).update(
        enqueued_at=timezone.now() - timedelta(minutes=5)
    )
    assert watchdog()["requeued"] == [stranded.pk]


def test_it_does_not_resend_a_deployment_waiting_behind_a_running_one(queued):
    running = queued("a" * 40)
    lifecycle.deployment_claim(running.pk)
    waiting = queued("b" * 40)
    Deployment.objects.filter(pk=waiting.pk).update(enqueued_at=timezone.now() - timedelta(hours=1))
    assert watchdog()["requeued"] == []


def test_it_cancels_a_queued_deployment_at_once(queued, cast):
    deployment = deployment_cancel(deployment=queued("a" * 40), actor=Actor(user=cast.developer))
    assert deployment.status == Status.CANCELLED and deployment.finished_at is not None
    assert lifecycle.deployment_claim(deployment.pk) is None


def test_it_asks_a_running_deployment_to_stop(queued, cast):
    running = lifecycle.deployment_claim(queued("a" * 40).pk)
    deployment = deployment_cancel(deployment=running, actor=Actor(user=cast.developer))
    assert deployment.status == Status.RUNNING
    assert deployment.cancel_requested_at is not None


def test_it_refuses_to_cancel_a_finished_deployment(queued, cast):
    running = lifecycle.deployment_claim(queued("a" * 40).pk)
    lifecycle.deployment_finish(deployment_id=running.pk, status=Status.SUCCEEDED)
    with pytest.raises(DeploymentError):
        deployment_cancel(deployment=running, actor=Actor(user=cast.developer))


def test_it_keeps_the_watchdogs_verdict_over_a_late_finish(queued):
    running = lifecycle.deployment_claim(queued("a" * 40).pk)
    _stall(running, settings.DEPLOY_WATCHDOG_SECONDS + 1)
    watchdog()
    assert lifecycle.deployment_finish(deployment_id=running.pk, status=Status.SUCCEEDED) is None
    assert Deployment.objects.get(pk=running.pk).status == Status.FAILED
