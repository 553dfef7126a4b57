"""Deploy, roll back, status, log and cancel over the API."""

from __future__ import annotations

import pytest
from django.utils import timezone

from deployments.models import Deployment, DeploymentStep, LogLine
from deployments.services import deployment_request
from sites.models import Site
from tenancy.audit import Actor

SHA = "b" * 40


@pytest.fixture
def deployment(cast, site) -> Deployment:
    deployment = deployment_request(site=site, actor=Actor(user=cast.owner), trigger="manual")
    DeploymentStep.objects.create(deployment=deployment, name="prepare", order=1,
                                  status="succeeded", finished_at=timezone.now())
    LogLine.objects.bulk_create(
        LogLine(deployment=deployment, seq=n, stream="out", text=f"line {n}", ts=timezone.now())
        for n in range(1, 6)
    )
    return deployment


def released(site: Site, release: str) -> Deployment:
    return Deployment.objects.create(site=site, organization=site.organization, status="succeeded",
                                     release=release, commit_sha=SHA, branch="main",
                                     finished_at=timezone.now(), triggered_by_name="x")


@pytest.mark.parametrize("who,expected", [("owner", 202), ("developer", 202), ("viewer", 403),
                                          ("anonymous", 401)])
def test_it_queues_a_deployment_for_deployers(api_as, site, who, expected):
    response = api_as(who).post(f"/api/v1/sites/{site.pk}/deployments/", {"commit": SHA})
    assert response.status_code == expected
    if expected == 202:
        deployment = Deployment.objects.get(pk=response.json()["id"])
        assert (deployment.commit_sha, deployment.trigger, deployment.status) == \
            (SHA, "api", "queued")


def test_it_refuses_deploying_without_the_ability(api_as, site):
    api = api_as("owner", abilities=["site:read", "site:write"])
    assert api.post(f"/api/v1/sites/{site.pk}/deployments/").status_code == 403
    assert not Deployment.objects.exists()


def test_it_answers_400_to_a_short_commit(api_as, site):
    response = api_as("owner").post(f"/api/v1/sites/{site.pk}/deployments/", {"commit": "abc"})
    assert response.status_code == 400


def test_it_shows_status_steps_and_timings(api_as, deployment):
    body = api_as("viewer").get(f"/api/v1/deployments/{deployment.pk}/").json()
    assert body["status"] == "queued"
    assert [s["name"] for s in body["steps"]] == ["prepare"]


def test_it_serves_the_log_after_a_sequence_number(api_as, deployment):
    body = api_as("viewer").get(f"/api/v1/deployments/{deployment.pk}/log/", after=3).json()
    assert [line["seq"] for line in body["lines"]] == [4, 5]
    assert body["last_seq"] == 5


def test_it_answers_404_for_another_organizations_deployment(api_as, deployment):
    api = api_as("outsider")
    assert api.get(f"/api/v1/deployments/{deployment.pk}/").status_code == 404
    assert api.get(f"/api/v1/deployments/{deployment.pk}/log/").status_code == 404
    assert api.post(f"/api/v1/deployments/{deployment.pk}/cancel/").status_code == 404


@pytest.mark.parametrize("who,expected", [("developer", 202), ("viewer", 403)])
def test_it_cancels_a_queued_deployment(api_as, deployment, who, expected):
    assert api_as(who).post(f"/api/v1/deployments/{deployment.pk}/cancel/").status_code == expected
    deployment.refresh_from_db()
    assert (deployment.status == "cancelled") == (expected == 202)


def test_it_answers_400_to_cancelling_a_finished_deployment(api_as, site):
    finished = released(site, "20261127000000")
    assert api_as("owner").post(f"/api/v1/deployments/{finished.pk}/cancel/").status_code == 400


def test_it_lists_releases(api_as, site):
    released(site, "20261127000000")
    released(site, "20261127010000")
    body = api_as("viewer").get(f"/api/v1/sites/{site.pk}/releases/").json()
    assert body == {"live": "20261127010000", "releases": ["20261127010000", "20261127000000"]}


@pytest.mark.parametrize("who,expected", [("developer", 202), ("viewer", 403)])
def test_it_rolls_back_to_a_retained_release(api_as, site, who, expected):
    released(site, "20261127000000")
    released(site, "20261127010000")
    response = api_as(who).post(f"/api/v1/sites/{site.pk}/rollback/",
                                {"release": "20261127000000"})
    assert response.status_code == expected
    assert Deployment.objects.filter(kind="rollback").exists() == (expected == 202)


def test_it_answers_400_to_rolling_back_to_an_unknown_release(api_as, site):
    response = api_as("owner").post(f"/api/v1/sites/{site.pk}/rollback/", {"release": "nope"})
    assert response.status_code == 400
