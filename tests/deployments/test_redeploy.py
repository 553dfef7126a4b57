"""Redeploy this commit: a new deploy pinned to the commit an earlier one deployed."""

from __future__ import annotations

import pytest

from deployments.models import Deployment, Kind, Status
from tenancy.models import AuditEvent
from tenancy.roles import Cap
from tests.deployments.history_rows import SHA, build_history
from tests.fixtures.matrix import EVERYONE, allowed, assert_page_access

pytestmark = pytest.mark.django_db


def _redeploy(client, source: Deployment):
    return client.post(f"/o/acme/deployments/{source.pk}/redeploy/")


def test_it_queues_a_deploy_pinned_to_the_commit_of_a_failed_deployment(cast, client_for, site):
    failed = build_history(site)["failed"]
    response = _redeploy(client_for(cast.developer), failed)
    new = Deployment.objects.order_by("-id").first()
    assert response.status_code == 302
    assert response["Location"] == f"/o/acme/deployments/{new.pk}/"
    assert (new.kind, new.status, new.commit_sha, new.number) == (
        Kind.DEPLOY, Status.QUEUED, SHA["b"], 5)
    event = AuditEvent.objects.get(verb="deployment.requested", target_id=str(new.pk))
    assert event.after["redeploy_of"] == "#2"
    assert event.after["commit"] == SHA["b"]


@pytest.mark.parametrize("who", EVERYONE)
def test_only_members_who_may_deploy_can_redeploy(cast, client_for, site, who):
    source = build_history(site)["third"]
    user = None if who == "anonymous" else getattr(cast, who)
    before = Deployment.objects.count()
    response = _redeploy(client_for(user), source)
    assert_page_access(response, Cap.DEPLOY, who, ok=302)
    assert Deployment.objects.count() == before + (1 if allowed(Cap.DEPLOY, who) else 0)


def test_a_deployment_without_an_exact_commit_cannot_be_redeployed(cast, client_for, site):
    source = build_history(site)["third"]
    Deployment.objects.filter(pk=source.pk).update(commit_sha="")
    response = _redeploy(client_for(cast.developer), source)
    assert response["Location"] == f"/o/acme/deployments/{source.pk}/"
    assert Deployment.objects.count() == 4


def test_the_history_and_the_failed_page_offer_it_and_name_the_failed_step(
    cast, client_for, site
):
    rows = build_history(site)
    client = client_for(cast.developer)
    history = client.get(f"/o/acme/sites/{site.pk}/history/").content.decode()
    for row in rows.values():
        if row.kind == Kind.DEPLOY:
            assert f'action="/o/acme/deployments/{row.pk}/redeploy/"' in history
    assert "failed at install" in history
    page = client.get(f"/o/acme/deployments/{rows['failed'].pk}/").content.decode()
    assert "Redeploy this commit" in page
    assert "Failed at install." in page


def test_a_viewer_sees_no_redeploy_button(cast, client_for, site):
    rows = build_history(site)
    page = client_for(cast.viewer).get(f"/o/acme/deployments/{rows['failed'].pk}/")
    assert "Redeploy this commit" not in page.content.decode()


def test_the_dashboard_offers_deploy_per_site_to_those_who_may_deploy(cast, client_for, site):
    button = f'action="/o/acme/sites/{site.pk}/deploy/"'
    assert button in client_for(cast.developer).get("/o/acme/").content.decode()
    assert button not in client_for(cast.viewer).get("/o/acme/").content.decode()
