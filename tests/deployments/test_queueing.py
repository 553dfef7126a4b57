"""One deployment per site at a time, enforced by the database; the rest wait in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from deployments import lifecycle, worker
from deployments.models import Deployment, Status, Trigger
from deployments.pipeline.context import PipelineResult
from deployments.services import DeploymentError, deployment_request
from deployments.tasks import enqueue, run_deployment
from tenancy.audit import Actor
from tenancy.models import AuditEvent

SHA_A, SHA_B = "a" * 40, "b" * 40


@pytest.fixture
def request_deploy(site, cast):
    def request(commit: str | None = None, trigger: str = Trigger.MANUAL) -> Deployment:
        return deployment_request(
            site=site, actor=Actor(user=cast.developer), trigger=trigger, commit=commit
        )

    return request


def test_it_queues_a_deployment_and_audits_it(request_deploy, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        deployment = request_deploy()
    assert deployment.status == Status.QUEUED
    assert deployment.triggered_by_name == "developer@acme.test"
    assert AuditEvent.objects.filter(verb="deployment.requested", target_id=str(deployment.pk))
    assert len(callbacks) == 1  # the task is sent only after commit


def test_it_enqueues_after_commit(request_deploy, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deployment = request_deploy()
    deployment.refresh_from_db()
    assert deployment.enqueued_at is not None


def test_it_queues_a_second_request_while_one_runs(request_deploy):
    first = request_deploy(SHA_A)
    assert lifecycle.deployment_claim(first.pk) is not None
    second = request_deploy(SHA_B)
    assert lifecycle.deployment_claim(second.pk) is None
    assert Deployment.objects.get(pk=second.pk).status == Status.QUEUED


def test_it_collapses_requests_for_the_same_commit(request_deploy):
    assert request_deploy(SHA_A) == request_deploy(SHA_A.upper())
    assert request_deploy() == request_deploy()
    assert Deployment.objects.count() == 2


def test_it_refuses_a_commit_that_is_not_a_full_sha(request_deploy):
    with pytest.raises(DeploymentError):
        request_deploy("HEAD~1")


def test_it_holds_one_running_deployment_per_site_in_the_database(request_deploy):
    first, second = request_deploy(SHA_A), request_deploy(SHA_B)
    Deployment.objects.filter(pk=first.pk).update(status=Status.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        Deployment.objects.filter(pk=second.pk).update(status=Status.RUNNING)


def test_it_starts_queued_deployments_in_order(request_deploy, site):
    # The services keep one queued deployment per site (test_coalescing.py); the claim still
    # honours the order should two ever wait.
    first = request_deploy(SHA_A)
    second = Deployment.objects.create(site=site, organization=site.organization, branch="main",
                                       commit_sha=SHA_B)
    assert lifecycle.deployment_claim(second.pk) is None  # the older one goes first
    assert lifecycle.deployment_claim(first.pk) is not None


def test_it_names_releases_in_utc_and_bumps_a_taken_second(request_deploy, site):
    now = timezone.now()
    taken = [(now + timedelta(seconds=n)).strftime("%Y%m%d%H%M%S") for n in range(3)]
    for release in taken:
        Deployment.objects.create(site=site, organization=site.organization, branch="main",
                                  release=release, status=Status.FAILED)
    claimed = lifecycle.deployment_claim(request_deploy().pk)
    assert claimed.release > taken[-1]
    assert claimed.release <= (now + timedelta(seconds=10)).strftime("%Y%m%d%H%M%S")


def test_it_does_nothing_for_a_redelivered_task(request_deploy):
    deployment = request_deploy()
    lifecycle.deployment_claim(deployment.pk)  # the first delivery is running it
    run_deployment(deployment.pk)
    row = Deployment.objects.get(pk=deployment.pk)
    assert row.status == Status.RUNNING and not row.steps.exists()


def test_it_does_nothing_for_a_task_of_a_finished_deployment(request_deploy):
    deployment = lifecycle.deployment_claim(request_deploy().pk)
    lifecycle.deployment_finish(deployment_id=deployment.pk, status=Status.SUCCEEDED)
    finished_at = Deployment.objects.get(pk=deployment.pk).finished_at
    run_deployment(deployment.pk)
    assert Deployment.objects.get(pk=deployment.pk).finished_at == finished_at


def test_it_enqueues_the_next_one_when_a_deployment_finishes(request_deploy):
    first = request_deploy(SHA_A)
    running = lifecycle.deployment_claim(first.pk)
    second = request_deploy(SHA_B)
    worker.finish(running, PipelineResult(Status.FAILED, error="boom"), send=enqueue)
    assert Deployment.objects.get(pk=first.pk).status == Status.FAILED
    assert Deployment.objects.get(pk=second.pk).enqueued_at is not None
    assert lifecycle.deployment_claim(second.pk) is not None


@pytest.mark.parametrize("status", [Status.QUEUED, Status.RUNNING, "exploded"])
def test_it_refuses_a_finish_that_is_not_an_outcome(request_deploy, status):
    running = lifecycle.deployment_claim(request_deploy().pk)
    with pytest.raises(lifecycle.InvalidTransition):
        lifecycle.deployment_finish(deployment_id=running.pk, status=status)
    assert Deployment.objects.get(pk=running.pk).status == Status.RUNNING


def test_it_refuses_to_deploy_a_site_without_servers(request_deploy, site):
    site.servers.clear()  # its only server was deleted
    with pytest.raises(DeploymentError, match="no server"):
        request_deploy()
