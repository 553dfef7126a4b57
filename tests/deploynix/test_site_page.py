"""The site page's panels: the durations chart, schedules, and the webhook delivery inbox."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deployments import lifecycle
from deployments.models import Deployment, Status, Trigger
from deployments.services import deployment_request
from tenancy.audit import Actor
from webhooks.models import WebhookDelivery


def page(client, site) -> str:
    response = client.get(reverse("sites:detail", kwargs={"org": "acme", "pk": site.pk}))
    return response.content.decode()


def finish(site, cast, status: str, n: int) -> None:
    deployment = deployment_request(site=site, actor=Actor(user=cast.owner), trigger=Trigger.MANUAL)
    lifecycle.deployment_claim(deployment.pk)
    Deployment.objects.filter(pk=deployment.pk).update(release=f"2030010100000{n}")
    lifecycle.deployment_finish(deployment_id=deployment.pk, status=status)


def test_it_charts_recent_deployments_by_outcome(cast, site, client_for):
    finish(site, cast, Status.SUCCEEDED, 1)
    finish(site, cast, Status.FAILED, 2)
    html = page(client_for(cast.viewer), site)
    assert 'class="bar ok"' in html and 'class="bar bad"' in html


def test_it_shows_the_schedules_panel(cast, site, client_for):
    assert "Scheduled deploys" in page(client_for(cast.viewer), site)


@pytest.mark.parametrize("role,shown", [("manager", True), ("developer", False), ("viewer", False)])
def test_it_shows_the_delivery_inbox_to_managers_and_up(cast, site, client_for, role, shown):
    WebhookDelivery.objects.create(site=site, provider="github", event="push", branch="develop",
                                   decision="ignored", reason="ignored: branch develop")
    assert ("ignored: branch develop" in page(client_for(cast.user(role)), site)) == shown
