"""Which event each deployment status announces; nothing leaves before the change commits."""

from __future__ import annotations

import pytest
from django.apps import apps

from deployments.models import Deployment, Kind, Status
from deployments.services import deployment_cancel
from deployments.signals import deployment_status_changed
from notifications.services import notify_deployment_status
from tenancy.audit import Actor


@pytest.fixture
def finished(deployment, add_channel, receiver, eager_celery, django_capture_on_commit_callbacks):
    """Finish `deployment` as (kind, status), notify, and return the types received."""
    add_channel("webhook")

    def finish(kind: str, status: str) -> list[str]:
        Deployment.objects.filter(pk=deployment.pk).update(kind=kind, status=status)
        with django_capture_on_commit_callbacks(execute=True):
            notify_deployment_status(deployment.pk)
        return [r.json()["type"] for r in receiver.requests]

    return finish


@pytest.mark.parametrize("kind,status,expected", [
    (Kind.DEPLOY, Status.SUCCEEDED, ["deployment.succeeded"]),
    (Kind.ROLLBACK, Status.SUCCEEDED, ["deployment.rolled_back"]),
    (Kind.DEPLOY, Status.FAILED, ["deployment.failed"]),
    (Kind.ROLLBACK, Status.CANCELLED, ["deployment.cancelled"]),
    (Kind.ROLLBACK, Status.RUNNING, ["deployment.started"]),
    (Kind.DEPLOY, Status.QUEUED, []),
])
def test_it_announces_the_event_of_each_status(finished, kind, status, expected):
    assert finished(kind, status) == expected


def test_it_sends_nothing_before_the_outcome_commits(deployment, add_channel, receiver,
                                                     django_capture_on_commit_callbacks):
    add_channel("webhook")
    with django_capture_on_commit_callbacks() as callbacks:
        assert notify_deployment_status(deployment.pk) == 1
    assert len(callbacks) == 1 and receiver.requests == []


def test_it_announces_a_queued_deployment_cancelled_by_a_user(deployment, add_channel, receiver,
                                                              cast, eager_celery,
                                                              django_capture_on_commit_callbacks):
    Deployment.objects.filter(pk=deployment.pk).update(status=Status.QUEUED)
    add_channel("webhook")
    with django_capture_on_commit_callbacks(execute=True):
        deployment_cancel(deployment=deployment, actor=Actor(user=cast.developer))
    assert [r.json()["type"] for r in receiver.requests] == ["deployment.cancelled"]


def test_it_listens_to_deployment_status_changes_once(deployment, add_channel, receiver,
                                                     eager_celery,
                                                     django_capture_on_commit_callbacks):
    apps.get_app_config("notifications").ready()  # connecting again must not double the sends
    Deployment.objects.filter(pk=deployment.pk).update(status=Status.FAILED)
    add_channel("webhook")
    with django_capture_on_commit_callbacks(execute=True):
        deployment_status_changed.send_robust(sender=Deployment, deployment_id=deployment.pk)
    assert [r.json()["type"] for r in receiver.requests] == ["deployment.failed"]
