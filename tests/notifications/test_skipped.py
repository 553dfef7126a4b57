"""A deploy of the commit already live, over a real sshd, ends `skipped` and is announced
with its reason and the release diff's summary (Celery eager: deploy and sends in-process)."""

from __future__ import annotations

import pytest

from deployments.models import Deployment, Status, Trigger
from deployments.services import deployment_request
from tenancy.audit import Actor

pytestmark = [
    pytest.mark.ssh, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True),
]


def test_a_skipped_deploy_is_announced_with_why_and_the_summary(cast, stage, add_channel,
                                                                 receiver, eager_celery):
    add_channel("webhook", site=stage.site, events=["skipped"])
    for _ in range(2):
        deployment_request(site=stage.site, actor=Actor(user=cast.developer),
                           trigger=Trigger.MANUAL)
    skipped = Deployment.objects.filter(site=stage.site).latest("id")
    assert skipped.status == Status.SKIPPED, skipped.error
    [received] = receiver.requests
    deployment = received.json()["data"]["deployment"]
    assert f"already live: {skipped.commit_sha[:12]} is live on every server" in deployment[
        "reason"]
    assert {k: deployment["changes"][k] for k in ("commits", "migrations", "destructive")} == {
        "commits": 0, "migrations": 0, "destructive": False}
