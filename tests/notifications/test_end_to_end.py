"""End to end: a real deployment over real sshd notifies a subscribed webhook as it starts
and finishes (Celery eager: the deploy and the sends run in this process). The link is
deployments.signals.deployment_status_changed, which NotificationsConfig.ready() connects to."""

from __future__ import annotations

import pytest

from deployments.models import Deployment, Status, Trigger
from deployments.services import deployment_request
from sites.models import Site
from tenancy.audit import Actor

pytestmark = [
    pytest.mark.ssh, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True),
]


def deploy(site: Site, user) -> Deployment:
    deployment = deployment_request(site=site, actor=Actor(user=user), trigger=Trigger.MANUAL)
    return Deployment.objects.get(pk=deployment.pk)  # finished: the eager task ran on commit


def test_it_notifies_start_and_success_of_a_real_deploy(cast, stage, add_channel, receiver,
                                                        eager_celery):
    add_channel("webhook", site=stage.site)
    deployment = deploy(stage.site, cast.developer)
    assert deployment.status == Status.SUCCEEDED, deployment.error
    assert [r.json()["type"] for r in receiver.requests] == [
        "deployment.started", "deployment.succeeded"]


def test_it_notifies_a_failed_deploy_with_its_step(cast, stage, add_channel, receiver,
                                                   eager_celery):
    Site.objects.filter(pk=stage.site.pk).update(deploy_script="exit 3")
    add_channel("webhook", site=stage.site, events=["failed"])
    deployment = deploy(stage.site, cast.developer)
    [request] = receiver.requests
    assert request.json()["data"]["deployment"]["failed_step"] == deployment.failed_step != ""
