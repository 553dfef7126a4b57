"""Cancelling a queued deployment is a transition of the state machine (deployments/lifecycle.py),
checked against its table like every other; the service only decides which one applies."""

from __future__ import annotations

import pytest
from django.db import transaction

from deployments import lifecycle
from deployments.models import Deployment, Status, Trigger
from deployments.services import deployment_cancel, deployment_request
from deployments.signals import deployment_status_changed
from tenancy.audit import Actor
from tenancy.models import AuditEvent


def _queued(site, cast) -> Deployment:
    return deployment_request(site=site, actor=Actor(user=cast.developer),
                              trigger=Trigger.MANUAL, commit="c" * 40)


def _locked(deployment: Deployment) -> Deployment:
    return Deployment.objects.select_for_update().get(pk=deployment.pk)


def test_it_cancels_a_queued_deployment_and_announces_it_after_commit(
    site, cast, django_capture_on_commit_callbacks
):
    deployment = _queued(site, cast)
    announced: list[int] = []

    def receiver(sender, *, deployment_id, **kwargs):
        announced.append(deployment_id)

    deployment_status_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            lifecycle.deployment_cancel_queued(_locked(deployment))
            assert announced == []  # nothing leaves before the change commits
    finally:
        deployment_status_changed.disconnect(receiver)
    deployment.refresh_from_db()
    assert (deployment.status, deployment.finished_at is not None) == (Status.CANCELLED, True)
    assert announced == [deployment.pk]


@pytest.mark.parametrize("status", [Status.RUNNING, Status.SUCCEEDED, Status.CANCELLED])
def test_it_refuses_what_the_transition_table_does_not_have(site, cast, status):
    deployment = _queued(site, cast)
    Deployment.objects.filter(pk=deployment.pk).update(status=status)
    with pytest.raises(lifecycle.InvalidTransition), transaction.atomic():
        lifecycle.deployment_cancel_queued(_locked(deployment))
    deployment.refresh_from_db()
    assert (deployment.status, deployment.finished_at) == (status, None)


def test_the_service_cancels_through_the_table(site, cast, monkeypatch):
    deployment = _queued(site, cast)
    without_cancel = {**lifecycle.TRANSITIONS, Status.QUEUED: frozenset({Status.RUNNING})}
    monkeypatch.setattr(lifecycle, "TRANSITIONS", without_cancel)
    with pytest.raises(lifecycle.InvalidTransition):
        deployment_cancel(deployment=deployment, actor=Actor(user=cast.developer))
    deployment.refresh_from_db()
    assert deployment.status == Status.QUEUED  # refused whole: nothing half-written
    assert not AuditEvent.objects.filter(verb="deployment.cancelled").exists()
