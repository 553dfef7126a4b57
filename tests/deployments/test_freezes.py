"""Freeze windows at the request: triggered deploys are held and released by the sweep after
the window; a person's deploy is refused without an override reason and audited with one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deployments import approvals, lifecycle
from deployments.models import Deployment, Status, Trigger
from deployments.services import DeploymentError, deployment_request
from deployments.signals import deployment_queued
from sites.freezes import freeze_window_create
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tenancy.roles import Role

SYSTEM = Actor(user=None, source="system")


@pytest.fixture
def freeze(cast, site):
    """An active one-off window on the site, ending in an hour (moved by the tests)."""
    now = timezone.now()
    return freeze_window_create(organization=cast.org, site=site, actor=Actor(user=cast.manager),
                                name="Release week", kind="once",
                                starts_at=now - timedelta(minutes=5),
                                ends_at=now + timedelta(hours=1))


@pytest.fixture
def queued_ids():
    sent: list[int] = []

    def record(sender, *, deployment_id, **kwargs):
        sent.append(deployment_id)

    deployment_queued.connect(record, dispatch_uid="test-freezes-queued")
    yield sent
    deployment_queued.disconnect(dispatch_uid="test-freezes-queued")


def end_window(window) -> None:
    """The window ended a second ago (time is driven by the window, not the clock)."""
    window.ends_at = timezone.now() - timedelta(seconds=1)
    window.starts_at = window.ends_at - timedelta(hours=1)
    window.save(update_fields=["starts_at", "ends_at"])


@pytest.mark.parametrize("trigger", [Trigger.SCHEDULE, Trigger.WEBHOOK])
def test_it_holds_a_triggered_deploy_during_a_freeze(site, freeze, trigger, queued_ids,
                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deployment = deployment_request(site=site, actor=SYSTEM, trigger=trigger)
    assert deployment.status == Status.HELD and "Release week" in deployment.held_by
    assert lifecycle.deployment_claim(deployment.pk) is None
    assert queued_ids == []


def test_the_sweep_keeps_it_held_while_the_window_lasts(site, freeze):
    deployment = deployment_request(site=site, actor=SYSTEM, trigger=Trigger.WEBHOOK)
    assert approvals.gates_sweep() == {"expired": [], "released": []}
    assert Deployment.objects.get(pk=deployment.pk).status == Status.HELD


def test_the_sweep_releases_it_once_the_window_ended(site, freeze, queued_ids,
                                                     django_capture_on_commit_callbacks):
    deployment = deployment_request(site=site, actor=SYSTEM, trigger=Trigger.WEBHOOK)
    end_window(freeze)
    with django_capture_on_commit_callbacks(execute=True):
        assert approvals.gates_sweep()["released"] == [deployment.pk]
        assert approvals.gates_sweep()["released"] == []  # a second sweep moves nothing
    assert Deployment.objects.get(pk=deployment.pk).status == Status.QUEUED
    assert queued_ids == [deployment.pk]
    assert AuditEvent.objects.filter(verb="deployment.released").count() == 1


def test_it_refuses_a_manual_deploy_without_an_override_reason(site, freeze, cast):
    with pytest.raises(DeploymentError, match="frozen by the site window “Release week”"):
        deployment_request(site=site, actor=Actor(user=cast.developer), trigger=Trigger.MANUAL)
    assert not Deployment.objects.exists()


def test_it_queues_a_manual_deploy_with_a_reason_and_audits_it(site, freeze, cast):
    deployment = deployment_request(site=site, actor=Actor(user=cast.developer),
                                    trigger=Trigger.MANUAL, freeze_override="  hotfix  #42 ")
    assert (deployment.status, deployment.freeze_override) == (Status.QUEUED, "hotfix #42")
    event = AuditEvent.objects.get(verb="deployment.freeze_overridden")
    assert (event.actor, event.after["reason"]) == (cast.developer, "hotfix #42")


def test_an_override_outside_a_freeze_is_not_recorded(site, cast):
    deployment = deployment_request(site=site, actor=Actor(user=cast.developer),
                                    trigger=Trigger.MANUAL, freeze_override="just in case")
    assert deployment.freeze_override == ""
    assert not AuditEvent.objects.filter(verb="deployment.freeze_overridden").exists()


def test_it_refuses_an_override_reason_too_long(site, freeze, cast):
    with pytest.raises(DeploymentError, match="at most 500"):
        deployment_request(site=site, actor=Actor(user=cast.developer), trigger=Trigger.API,
                           freeze_override="x" * 501)


def test_a_held_push_is_replaced_by_a_newer_one(site, freeze):
    first = deployment_request(site=site, actor=SYSTEM, trigger=Trigger.WEBHOOK, commit="a" * 40)
    second = deployment_request(site=site, actor=SYSTEM, trigger=Trigger.WEBHOOK, commit="b" * 40)
    assert Deployment.objects.get(pk=first.pk).status == Status.CANCELLED
    assert second.status == Status.HELD


def test_an_approval_during_a_freeze_holds_a_push(site, freeze, cast):
    site.approval_role = Role.DEVELOPER
    site.save(update_fields=["approval_role"])
    deployment = deployment_request(site=site, actor=SYSTEM, trigger=Trigger.WEBHOOK)
    approved = approvals.deployment_approve(deployment=deployment,
                                            actor=Actor(user=cast.developer), role=Role.DEVELOPER)
    assert approved.status == Status.HELD


def test_an_override_given_with_the_request_still_counts_after_approval(site, freeze, cast):
    site.approval_role = Role.OWNER
    site.save(update_fields=["approval_role"])
    deployment = deployment_request(site=site, actor=Actor(user=cast.developer),
                                    trigger=Trigger.MANUAL, freeze_override="incident")
    assert deployment.status == Status.AWAITING_APPROVAL
    approved = approvals.deployment_approve(deployment=deployment, actor=Actor(user=cast.owner),
                                            role=Role.OWNER)
    assert approved.status == Status.QUEUED
