"""Deployment pages and the rollback button: role matrix, tenant isolation, query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deployments import lifecycle
from deployments.models import Deployment, Kind, LogLine, Status, Trigger
from deployments.services import deployment_request
from tenancy.audit import Actor


def url(name: str, org: str = "acme", **kwargs) -> str:
    return reverse(name, kwargs={"org": org, **kwargs})


@pytest.fixture
def deployed(site, cast):
    """Make `count` successful deploys of `site` with releases 2030010100000n."""

    def deploy(count: int, start: int = 0) -> list[Deployment]:
        made = []
        for n in range(start, start + count):
            deployment = deployment_request(
                site=site, actor=Actor(user=cast.developer), trigger=Trigger.MANUAL,
                commit=f"{n:040x}",
            )
            lifecycle.deployment_claim(deployment.pk)
            Deployment.objects.filter(pk=deployment.pk).update(release=f"2030010100{n:04d}")
            lifecycle.deployment_finish(deployment_id=deployment.pk, status=Status.SUCCEEDED)
            made.append(Deployment.objects.get(pk=deployment.pk))
        return made

    return deploy


@pytest.mark.parametrize("role,expected", [("viewer", 200), ("outsider", 404), ("anonymous", 302)])
def test_it_shows_a_deployment_to_members_only(cast, deployed, client_for, role, expected):
    [deployment] = deployed(1)
    response = client_for(cast.user(role)).get(url("deployments:detail", pk=deployment.pk))
    assert response.status_code == expected


def test_it_shows_steps_and_the_stored_log(cast, deployed, client_for):
    [deployment] = deployed(1)
    deployment.steps.create(name="fetch_code", server="web-1", order=1, status="succeeded")
    LogLine.objects.create(deployment=deployment, seq=1, server="web-1", stream="out",
                           text="Cloning into bare repository", ts=deployment.created_at)
    response = client_for(cast.viewer).get(url("deployments:detail", pk=deployment.pk))
    page = response.content.decode()
    assert "fetch_code" in page and "Cloning into bare repository" in page


@pytest.mark.parametrize("role,expected", [("developer", 302), ("viewer", 403), ("outsider", 404)])
def test_it_lets_developers_cancel(cast, site, client_for, role, expected):
    deployment = deployment_request(site=site, actor=Actor(user=cast.owner), trigger=Trigger.API)
    client_for(cast.user(role)).post(url("deployments:cancel", pk=deployment.pk))
    cancelled = Deployment.objects.get(pk=deployment.pk).status == Status.CANCELLED
    assert cancelled == (expected == 302)


@pytest.mark.parametrize("role,expected", [("developer", 302), ("viewer", 403), ("outsider", 404)])
def test_it_lets_developers_roll_back(cast, site, deployed, client_for, role, expected):
    old, _live = deployed(2)
    response = client_for(cast.user(role)).post(
        url("sites:rollback", pk=site.pk, release=old.release)
    )
    assert response.status_code == expected
    assert Deployment.objects.filter(kind=Kind.ROLLBACK).exists() == (expected == 302)


def test_it_refuses_to_roll_back_to_a_pruned_release(cast, site, deployed, client_for):
    site.releases_to_keep = 2
    site.save()
    first, *_ = deployed(4)
    client_for(cast.developer).post(url("sites:rollback", pk=site.pk, release=first.release))
    assert not Deployment.objects.filter(kind=Kind.ROLLBACK).exists()


def test_it_offers_rollback_only_on_retained_releases_that_are_not_live(
    cast, site, deployed, client_for
):
    site.releases_to_keep = 2
    site.save()
    first, second, live = deployed(3)
    page = client_for(cast.developer).get(url("sites:history", pk=site.pk)).content.decode()
    assert url("sites:rollback", pk=site.pk, release=second.release) in page
    assert url("sites:rollback", pk=site.pk, release=first.release) not in page
    assert url("sites:rollback", pk=site.pk, release=live.release) not in page


def test_it_hides_rollback_buttons_from_viewers(cast, site, deployed, client_for):
    old, _live = deployed(2)
    page = client_for(cast.viewer).get(url("sites:history", pk=site.pk)).content.decode()
    assert url("sites:rollback", pk=site.pk, release=old.release) not in page


def test_it_lists_deployments_in_constant_queries(
    cast, deployed, client_for, django_assert_num_queries
):
    client = client_for(cast.viewer)
    deployed(1)
    with django_assert_num_queries(6) as few:
        client.get(url("deployments:list"))
    deployed(6, start=1)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(url("deployments:list")).status_code == 200


def test_it_renders_the_dashboard_panels_in_constant_queries(
    cast, deployed, make_site, client_for, django_assert_num_queries
):
    client = client_for(cast.viewer)
    deployed(1)
    dashboard = reverse("dashboard", kwargs={"org": "acme"})
    with django_assert_num_queries(8) as few:
        client.get(dashboard)
    deployed(5, start=1)
    make_site(name="blog")
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(dashboard).content.decode()
    assert "blog" in page and "2030010100" in page


def test_it_shows_step_progress_and_timings_on_the_deployment_page(cast, deployed, client_for):
    from datetime import timedelta

    from django.utils import timezone

    from deployments.models import DeploymentStep
    from deployments.pipeline import DEPLOY_STEPS

    [deployment] = deployed(1)
    now = timezone.now()
    DeploymentStep.objects.create(deployment=deployment, name="prepare", server="web1", order=1,
                                  status="succeeded", started_at=now,
                                  finished_at=now + timedelta(seconds=2))
    page = client_for(cast.viewer).get(url("deployments:detail", pk=deployment.pk)).content.decode()
    assert f'value="1" max="{len(DEPLOY_STEPS)}"' in page
    assert "<title>prepare (web1): 2.00 s</title>" in page


@pytest.mark.parametrize("role,expected", [("viewer", 200), ("outsider", 404), ("anonymous", 302)])
def test_it_serves_the_deployment_facts_panel_to_members_only(
    cast, deployed, client_for, role, expected
):
    [deployment] = deployed(1)
    response = client_for(cast.user(role)).get(url("deployments:props", pk=deployment.pk))
    assert response.status_code == expected
