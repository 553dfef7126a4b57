"""Approvals and freezes over the API and on the pages: the role matrix of Approve and Reject,
the requester refused, the freeze override, and the site's approval rule (Manager+ to set)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deployments.models import Deployment, Status, Trigger
from deployments.services import deployment_request
from sites.freezes import freeze_window_create
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tenancy.roles import Cap, Role
from tests.fixtures.matrix import EVERYONE, allowed, api_status, assert_page_access


@pytest.fixture
def awaiting(site, cast) -> Deployment:
    """A deploy by the developer awaiting a Developer's (or higher) approval."""
    site.approval_role = Role.DEVELOPER
    site.save(update_fields=["approval_role"])
    return deployment_request(site=site, actor=Actor(user=cast.developer), trigger=Trigger.MANUAL)


def status_of(deployment: Deployment) -> str:
    return Deployment.objects.get(pk=deployment.pk).status


@pytest.mark.parametrize("who", EVERYONE)
def test_approve_over_the_api_follows_the_table(api_as, awaiting, who):
    response = api_as(who).post(f"/api/v1/deployments/{awaiting.pk}/approve/")
    if who == "developer":  # holds the capability, but asked for it: refused by the rule
        assert response.status_code == 403
        assert "another member" in response.json()["detail"]
        return
    assert response.status_code == api_status(Cap.APPROVE_DEPLOYS, who)
    expected = Status.QUEUED if allowed(Cap.APPROVE_DEPLOYS, who) else Status.AWAITING_APPROVAL
    assert status_of(awaiting) == expected


@pytest.mark.parametrize("who", EVERYONE)
def test_approve_on_the_page_follows_the_table(client_for, cast, awaiting, who):
    response = client_for(cast.user(who)).post(f"/o/acme/deployments/{awaiting.pk}/approve/")
    if who == "developer":
        assert response.status_code == 403
        return
    assert_page_access(response, Cap.APPROVE_DEPLOYS, who, ok=302)


def test_a_refused_approval_is_audited(client_for, cast, awaiting):
    client_for(cast.developer).post(f"/o/acme/deployments/{awaiting.pk}/approve/")
    event = AuditEvent.objects.get(verb="permission.denied")
    assert "another member" in event.after["detail"]


def test_a_developer_cannot_approve_when_the_site_needs_a_manager(api_as, site, cast):
    site.approval_role = Role.MANAGER
    site.save(update_fields=["approval_role"])
    deployment = deployment_request(site=site, actor=Actor(user=cast.admin), trigger="manual")
    assert api_as("developer").post(
        f"/api/v1/deployments/{deployment.pk}/approve/").status_code == 403
    assert api_as("manager").post(
        f"/api/v1/deployments/{deployment.pk}/approve/").json()["status"] == "queued"


def test_approving_twice_over_the_api_answers_the_same_deployment(api_as, awaiting):
    first = api_as("manager").post(f"/api/v1/deployments/{awaiting.pk}/approve/").json()
    second = api_as("admin").post(f"/api/v1/deployments/{awaiting.pk}/approve/").json()
    assert first == second and first["decided_by_name"] == "manager@acme.test"


def test_reject_over_the_api_records_the_reason(api_as, awaiting):
    body = api_as("owner").post(f"/api/v1/deployments/{awaiting.pk}/reject/",
                                {"reason": "wait for QA"}).json()
    assert body["status"] == "rejected"
    assert body["error"] == "rejected by owner@acme.test: wait for QA"


def test_the_deployment_page_offers_approve_only_to_who_may_answer(client_for, cast, awaiting):
    url = f"/o/acme/deployments/{awaiting.pk}/"
    assert 'id="approve-deployment"' in client_for(cast.manager).get(url).content.decode()
    assert 'id="approve-deployment"' not in client_for(cast.developer).get(url).content.decode()
    assert 'id="approve-deployment"' not in client_for(cast.viewer).get(url).content.decode()


@pytest.fixture
def frozen(site, cast):
    now = timezone.now()
    return freeze_window_create(organization=cast.org, site=None, actor=Actor(user=cast.admin),
                                name="Black Friday", kind="once",
                                starts_at=now - timedelta(minutes=1),
                                ends_at=now + timedelta(hours=2))


def test_an_api_deploy_during_a_freeze_needs_a_reason(api_as, site, frozen):
    api = api_as("developer")
    refused = api.post(f"/api/v1/sites/{site.pk}/deployments/")
    assert refused.status_code == 400 and "Black Friday" in refused.json()["detail"][0]
    accepted = api.post(f"/api/v1/sites/{site.pk}/deployments/", {"freeze_override": "hotfix"})
    assert (accepted.status_code, accepted.json()["freeze_override"]) == (202, "hotfix")
    assert AuditEvent.objects.filter(verb="deployment.freeze_overridden").count() == 1


def test_the_site_page_shows_the_freeze_and_asks_for_a_reason(client_for, cast, site, frozen):
    page = client_for(cast.developer).get(f"/o/acme/sites/{site.pk}/").content.decode()
    assert "Deploys are frozen" in page and "Black Friday" in page
    assert 'name="freeze_override" required' in page


def test_the_deploy_button_deploys_with_a_reason_during_a_freeze(client_for, cast, site, frozen):
    client = client_for(cast.developer)
    client.post(f"/o/acme/sites/{site.pk}/deploy/")
    assert not Deployment.objects.exists()
    client.post(f"/o/acme/sites/{site.pk}/deploy/", {"freeze_override": "security fix"})
    assert Deployment.objects.get().freeze_override == "security fix"


@pytest.mark.parametrize("who", ["owner", "manager", "developer"])
def test_only_managers_and_up_set_the_approval_rule_over_the_api(api_as, site, who):
    response = api_as(who).patch(f"/api/v1/sites/{site.pk}/", {"approval_role": 60})
    assert response.status_code == (200 if allowed(Cap.SITE_GATES, who) else 403)
    site.refresh_from_db()
    assert (site.approval_role == Role.MANAGER) == allowed(Cap.SITE_GATES, who)


def test_redeploy_during_a_freeze_asks_for_a_reason_and_keeps_it(client_for, cast, site, frozen):
    done = Deployment.objects.create(site=site, organization=cast.org, status=Status.SUCCEEDED,
                                     commit_sha="e" * 40, branch="main", number=1,
                                     triggered_by_name="x", finished_at=timezone.now())
    client = client_for(cast.developer)
    page = client.get(f"/o/acme/deployments/{done.pk}/").content.decode()
    assert f'id="redeploy-reason-{done.pk}" name="freeze_override" required' in page
    client.post(f"/o/acme/deployments/{done.pk}/redeploy/", {"freeze_override": "roll forward"})
    assert Deployment.objects.exclude(pk=done.pk).get().freeze_override == "roll forward"
