"""A deploy awaiting approval is announced to subscribed channels (`approval_requested`) and
mailed to the members who may approve it, never to its requester or below the role."""

from __future__ import annotations

import pytest
from django.core import mail

from deployments.models import Trigger
from deployments.services import deployment_request
from tenancy.audit import Actor
from tenancy.roles import Role


@pytest.fixture
def request_approval(site, cast, eager_celery, django_capture_on_commit_callbacks):
    """Request a deploy of the site, which Managers and up approve, as the manager."""
    site.approval_role = Role.MANAGER
    site.save(update_fields=["approval_role"])

    def request():
        with django_capture_on_commit_callbacks(execute=True):
            return deployment_request(site=site, actor=Actor(user=cast.manager),
                                      trigger=Trigger.MANUAL)

    return request


def test_it_mails_the_approvers_but_not_the_requester(request_approval):
    request_approval()
    [message] = mail.outbox
    assert sorted(message.to) == ["admin@acme.test", "owner@acme.test"]
    assert message.subject.startswith("[Deploynix] Approval needed to deploy shop")


def test_the_mail_says_who_may_approve_and_links_the_deployment(request_approval):
    deployment = request_approval()
    body = mail.outbox[0].body
    assert "Approval: Manager or higher, by " in body
    assert f"/o/acme/deployments/{deployment.pk}/" in body


def test_it_announces_the_request_to_a_subscribed_channel(request_approval, add_channel,
                                                          receiver):
    add_channel("webhook", events=["approval_requested"])
    request_approval()
    [received] = receiver.requests
    data = received.json()
    assert data["type"] == "deployment.approval_requested"
    assert data["data"]["deployment"]["approval_role"] == "Manager"


def test_a_site_without_approvals_mails_nobody(site, cast, eager_celery,
                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deployment_request(site=site, actor=Actor(user=cast.manager), trigger=Trigger.MANUAL)
    assert mail.outbox == []
