"""Queued work is re-authorized when a worker claims it.

A deployment waits while another one runs; meanwhile its requester may be removed or demoted,
their token revoked, or the site's auto-deploy turned off. The worker checks right after the
claim: a requester without the right ends the deployment `cancelled`, audited, and nothing
reaches the server (its deploy path is never even created).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from deployments.models import Deployment, Status
from deployments.tasks import run_deployment
from schedules.services import schedule_create, schedule_fire
from tenancy.audit import Actor
from tenancy.models import ApiToken, AuditEvent
from tenancy.roles import Role
from tenancy.services.team import member_change_role, member_remove
from tests.fixtures.api import mint
from tests.fixtures.stage import Stage, make_stage
from tests.webhooks.signing import signed
from webhooks.secrets import webhook_secret_ensure

pytestmark = [pytest.mark.ssh, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stage(cast, sshd_host, tmp_path: Path) -> Stage:
    return make_stage(cast, sshd_host, tmp_path, auto_deploy=True)


def from_the_page(client_for, user, stage: Stage) -> Deployment:
    url = reverse("sites:deploy", kwargs={"org": "acme", "pk": stage.site.pk})
    assert client_for(user).post(url).status_code == 302
    return Deployment.objects.get(site=stage.site)


def from_the_api(client, token: str, stage: Stage) -> Deployment:
    response = client.post(f"/api/v1/sites/{stage.site.pk}/deployments/", {},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 202, response.content
    return Deployment.objects.get(pk=response.json()["id"])


def run(deployment: Deployment) -> Deployment:
    run_deployment(deployment.pk)
    return Deployment.objects.get(pk=deployment.pk)


def assert_refused(deployment: Deployment, stage: Stage, why: str) -> None:
    assert deployment.status == Status.CANCELLED
    assert deployment.error.startswith("requester no longer authorized") and why in deployment.error
    assert not stage.deploy_path.exists()  # not even `prepare` ran on the server
    assert AuditEvent.objects.filter(verb="deployment.unauthorized",
                                     target_id=str(deployment.pk)).exists()


def test_it_cancels_the_queued_deploy_of_a_removed_manager(cast, client_for, stage):
    queued = from_the_page(client_for, cast.manager, stage)
    member_remove(actor=Actor(user=cast.owner), member=cast.membership(cast.manager))
    assert_refused(run(queued), stage, "no longer a member")


def test_it_cancels_the_queued_deploy_of_a_member_demoted_to_viewer(cast, client_for, stage):
    queued = from_the_page(client_for, cast.developer, stage)
    member_change_role(actor=Actor(user=cast.owner), member=cast.membership(cast.developer),
                       role=Role.VIEWER)
    assert_refused(run(queued), stage, "may no longer deploy")


def test_it_cancels_the_queued_deploy_of_a_revoked_token(cast, client, stage):
    token = mint(cast.developer, cast.org)
    queued = from_the_api(client, token, stage)
    ApiToken.objects.filter(pk=queued.api_token_id).update(revoked_at=timezone.now())
    assert_refused(run(queued), stage, "revoked")


def test_it_cancels_the_queued_deploy_of_a_token_whose_user_was_demoted(cast, client, stage):
    queued = from_the_api(client, mint(cast.developer, cast.org), stage)
    member_change_role(actor=Actor(user=cast.owner), member=cast.membership(cast.developer),
                       role=Role.VIEWER)
    assert_refused(run(queued), stage, "may no longer deploy")


def test_it_cancels_a_push_deploy_once_auto_deploy_is_off(client, stage):
    body = json.dumps({"ref": "refs/heads/main", "after": stage.release("1.0.0"),
                       "repository": {"ssh_url": stage.site.repository_url}}).encode()
    headers = signed("github", webhook_secret_ensure(site=stage.site), body)
    response = client.post(f"/hooks/{stage.site.webhook_uuid}/github", data=body,
                           content_type="application/json", headers=headers)
    stage.site.auto_deploy = False
    stage.site.save(update_fields=["auto_deploy"])
    assert_refused(run(Deployment.objects.get(pk=response.json()["deployment"])), stage,
                   "auto-deploy")


def test_it_cancels_a_scheduled_deploy_whose_creator_left(cast, stage):
    schedule = schedule_create(site=stage.site, actor=Actor(user=cast.developer),
                               run_at=timezone.now() + timedelta(minutes=5))
    fired = schedule_fire(schedule_id=schedule.pk, now=timezone.now() + timedelta(minutes=6))
    member_remove(actor=Actor(user=cast.owner), member=cast.membership(cast.developer))
    assert_refused(run(fired.deployment), stage, "no longer a member")


def test_it_runs_the_queued_deploy_of_a_token_still_allowed(cast, client, stage):
    deployment = run(from_the_api(client, mint(cast.developer, cast.org), stage))
    assert deployment.status == Status.SUCCEEDED, deployment.error
