"""Deploys that never go live are announced with their reason: `held` by a freeze window,
`rejected` by an approver, `expired` unanswered (and `skipped` as already live, over a real
sshd in tests/notifications/test_skipped.py). The receivers are local HTTP servers and the
mail outbox; the deployments, gates and database are real."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deployments.approvals import deployment_expire, deployment_reject
from deployments.models import Trigger
from deployments.services import deployment_request
from sites.freezes import freeze_window_create
from tenancy.audit import Actor
from tenancy.roles import Role

STOPPED = ["skipped", "rejected", "expired", "held"]


@pytest.fixture
def run_on_commit(eager_celery, django_capture_on_commit_callbacks):
    """Call `action` with its after-commit callbacks (the announcement, the sends) run."""

    def run(action, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(**kwargs)

    return run


@pytest.fixture
def awaiting(site, cast, run_on_commit):
    """A deploy of the site awaiting a Manager's approval, requested by the developer."""
    site.approval_role = Role.MANAGER
    site.save(update_fields=["approval_role"])
    return run_on_commit(deployment_request, site=site, actor=Actor(user=cast.developer),
                         trigger=Trigger.MANUAL)


def test_a_held_deploy_is_announced_with_the_freeze(site, cast, add_channel, receiver,
                                                    run_on_commit):
    add_channel("webhook", events=STOPPED)
    now = timezone.now()
    freeze_window_create(organization=cast.org, site=site, actor=Actor(user=cast.manager),
                         name="Release week", kind="once", starts_at=now - timedelta(minutes=5),
                         ends_at=now + timedelta(hours=1))
    run_on_commit(deployment_request, site=site, actor=Actor.system(), trigger=Trigger.WEBHOOK)
    [received] = receiver.requests
    data = received.json()["data"]
    assert (data["event"], data["deployment"]["status"]) == ("held", "held")
    assert "Release week" in data["deployment"]["reason"]


def test_a_rejected_deploy_is_announced_with_who_and_why(awaiting, cast, add_channel,
                                                         receiver, run_on_commit):
    add_channel("webhook", events=STOPPED)
    run_on_commit(deployment_reject, deployment=awaiting, actor=Actor(user=cast.manager),
                  role=Role.MANAGER, reason="Not on a Friday")
    [received] = receiver.requests
    assert received.json()["type"] == "deployment.rejected"
    assert received.json()["data"]["deployment"]["reason"] == (
        f"rejected by {cast.manager.email}: Not on a Friday")


def test_an_expired_request_is_announced_to_slack_with_the_reason(awaiting, add_channel,
                                                                  receiver, run_on_commit):
    add_channel("slack", events=["expired"])
    later = awaiting.approval_expires_at + timedelta(seconds=1)
    assert run_on_commit(deployment_expire, deployment_id=awaiting.pk, now=later)
    [received] = receiver.requests
    text = str(received.json()["blocks"])
    assert "Deploy expired unapproved: shop" in received.json()["text"]
    assert "nobody answered within the site" in text


def test_a_channel_that_does_not_subscribe_hears_nothing(awaiting, cast, add_channel,
                                                         receiver, run_on_commit):
    add_channel("webhook", events=["succeeded", "failed"])
    run_on_commit(deployment_reject, deployment=awaiting, actor=Actor(user=cast.manager),
                  role=Role.MANAGER)
    assert receiver.requests == []
