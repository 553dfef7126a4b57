"""Approvals: a site with an approval role starts deploys `awaiting_approval`; who may answer,
rejection, expiry, and an approval that queues the deployment exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deployments import approvals, lifecycle, worker
from deployments.gates import ApprovalRefused
from deployments.models import Deployment, Status, Trigger
from deployments.services import DeploymentError, deployment_cancel, deployment_request
from deployments.signals import deployment_queued
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tenancy.roles import Role


@pytest.fixture
def gated(site):
    """The shared site, its deploys approved by a Manager or higher."""
    site.approval_role = Role.MANAGER
    site.save(update_fields=["approval_role"])
    return site


@pytest.fixture
def queued_ids():
    """The ids announced to the worker (the deployment_queued signal), after commit."""
    sent: list[int] = []

    def record(sender, *, deployment_id, **kwargs):
        sent.append(deployment_id)

    deployment_queued.connect(record, dispatch_uid="test-approvals-queued")
    yield sent
    deployment_queued.disconnect(dispatch_uid="test-approvals-queued")


def request_as(site, user, trigger=Trigger.MANUAL) -> Deployment:
    return deployment_request(site=site, actor=Actor(user=user), trigger=trigger)


def approve(deployment, user, role) -> Deployment:
    return approvals.deployment_approve(deployment=deployment, actor=Actor(user=user), role=role)


def test_it_waits_for_approval_and_is_never_claimed(gated, cast, queued_ids,
                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deployment = request_as(gated, cast.developer)
    assert deployment.status == Status.AWAITING_APPROVAL
    assert lifecycle.deployment_claim(deployment.pk) is None
    assert queued_ids == []


def test_the_watchdog_never_sends_a_deployment_awaiting_approval(gated, cast):
    deployment = request_as(gated, cast.developer)
    Deployment.objects.filter(pk=deployment.pk).update(
        created_at=timezone.now() - timedelta(hours=1))
    sent: list[int] = []
    worker.watchdog(send=lambda pk: sent.append(pk) or True)
    assert sent == []


def test_the_requester_cannot_approve_their_own(gated, cast):
    deployment = request_as(gated, cast.manager)
    with pytest.raises(ApprovalRefused, match="another member"):
        approve(deployment, cast.manager, Role.MANAGER)
    assert Deployment.objects.get(pk=deployment.pk).status == Status.AWAITING_APPROVAL


def test_a_role_below_the_required_one_cannot_approve(gated, cast):
    deployment = request_as(gated, cast.admin)
    with pytest.raises(ApprovalRefused, match="Manager role or higher"):
        approve(deployment, cast.developer, Role.DEVELOPER)


def test_a_manager_approves_and_it_is_queued_audited(gated, cast, queued_ids,
                                                    django_capture_on_commit_callbacks):
    deployment = request_as(gated, cast.developer)
    with django_capture_on_commit_callbacks(execute=True):
        approved = approve(deployment, cast.manager, Role.MANAGER)
    assert (approved.status, approved.decided_by_name) == (Status.QUEUED, cast.manager.email)
    assert queued_ids == [deployment.pk]
    assert AuditEvent.objects.filter(verb="deployment.approved", actor=cast.manager).count() == 1


def test_a_double_approval_queues_once(gated, cast, queued_ids,
                                       django_capture_on_commit_callbacks):
    deployment = request_as(gated, cast.developer)
    with django_capture_on_commit_callbacks(execute=True):
        approve(deployment, cast.manager, Role.MANAGER)
        # A second approver acting on the page they loaded before the first click.
        again = approve(deployment, cast.admin, Role.ADMIN)
    assert again.status == Status.QUEUED and again.decided_by_name == cast.manager.email
    assert queued_ids == [deployment.pk]
    assert AuditEvent.objects.filter(verb="deployment.approved").count() == 1


def test_a_rejected_deployment_ends_and_never_runs(gated, cast, queued_ids,
                                                    django_capture_on_commit_callbacks):
    deployment = request_as(gated, cast.developer)
    with django_capture_on_commit_callbacks(execute=True):
        rejected = approvals.deployment_reject(deployment=deployment, actor=Actor(user=cast.owner),
                                               role=Role.OWNER, reason="not on a Friday")
    assert rejected.status == Status.REJECTED and rejected.is_finished
    assert rejected.error == "rejected by owner@acme.test: not on a Friday"
    assert queued_ids == []
    assert AuditEvent.objects.get(verb="deployment.rejected").after == {"reason": "not on a Friday"}


def test_an_approved_deployment_cannot_be_rejected(gated, cast):
    deployment = request_as(gated, cast.developer)
    approve(deployment, cast.manager, Role.MANAGER)
    with pytest.raises(DeploymentError, match="queued"):
        approvals.deployment_reject(deployment=deployment, actor=Actor(user=cast.owner),
                                    role=Role.OWNER)


def test_the_sweep_expires_an_unanswered_request_with_its_reason(gated, cast):
    deployment = request_as(gated, cast.developer)
    later = deployment.approval_expires_at + timedelta(seconds=1)
    assert approvals.gates_sweep(later) == {"expired": [deployment.pk], "released": []}
    deployment.refresh_from_db()
    assert deployment.status == Status.EXPIRED and deployment.error.startswith("approval expired")
    assert AuditEvent.objects.filter(verb="deployment.approval_expired").count() == 1


def test_it_expires_after_the_site_approval_hours(gated, cast):
    gated.approval_hours = 2
    gated.save(update_fields=["approval_hours"])
    deployment = request_as(gated, cast.developer)
    waited = deployment.approval_expires_at - deployment.created_at
    assert timedelta(hours=2) - timedelta(seconds=5) < waited <= timedelta(hours=2)


def test_approving_too_late_expires_it_and_says_so(gated, cast):
    deployment = request_as(gated, cast.developer)
    Deployment.objects.filter(pk=deployment.pk).update(
        approval_expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(DeploymentError, match="expired"):
        approve(deployment, cast.manager, Role.MANAGER)
    assert Deployment.objects.get(pk=deployment.pk).status == Status.EXPIRED


def test_a_webhook_deploy_needs_approval_too_and_anyone_with_the_role_approves(gated, cast):
    deployment = deployment_request(site=gated, actor=Actor(user=None, source="webhook"),
                                    trigger=Trigger.WEBHOOK)
    assert deployment.status == Status.AWAITING_APPROVAL
    assert approve(deployment, cast.manager, Role.MANAGER).status == Status.QUEUED


def test_the_requester_can_still_cancel_their_request(gated, cast):
    deployment = request_as(gated, cast.developer)
    cancelled = deployment_cancel(deployment=deployment, actor=Actor(user=cast.developer))
    assert cancelled.status == Status.CANCELLED


def test_a_newer_request_supersedes_the_one_awaiting_approval(gated, cast):
    first = request_as(gated, cast.developer)
    second = deployment_request(site=gated, actor=Actor(user=cast.developer),
                                trigger=Trigger.MANUAL, commit="b" * 40)
    assert Deployment.objects.get(pk=first.pk).status == Status.CANCELLED
    assert second.status == Status.AWAITING_APPROVAL


def test_a_site_without_an_approval_role_queues_at_once(site, cast):
    assert request_as(site, cast.developer).status == Status.QUEUED
