"""A site's deployment pages (deployments/views/site.py): Deploy and History."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deployments import lifecycle
from deployments.models import Deployment, Status, Trigger
from deployments.services import deployment_request
from tenancy.audit import Actor


def url(name: str, org: str = "acme", **kwargs) -> str:
    return reverse(f"sites:{name}", kwargs={"org": org, **kwargs})


def _deployed(site, cast, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        deployment = deployment_request(
            site=site, actor=Actor(user=cast.owner), trigger=Trigger.MANUAL, commit=f"{n:040x}"
        )
        lifecycle.deployment_claim(deployment.pk)
        Deployment.objects.filter(pk=deployment.pk).update(release=f"2030010100{n:04d}")
        lifecycle.deployment_finish(deployment_id=deployment.pk, status=Status.SUCCEEDED)


@pytest.mark.parametrize("role,expected", [("developer", 302), ("viewer", 403), ("outsider", 404)])
def test_it_lets_developers_deploy(cast, site, client_for, role, expected):
    response = client_for(cast.user(role)).post(url("deploy", pk=site.pk))
    assert response.status_code == expected
    assert Deployment.objects.filter(site=site).exists() == (expected == 302)


def test_it_pages_history_in_constant_queries(cast, site, client_for, django_assert_num_queries):
    client = client_for(cast.viewer)
    _deployed(site, cast, 2)
    # 14: one of them reads the kept release diffs (migrations a rollback would leave applied).
    with django_assert_num_queries(14) as few:
        client.get(url("history", pk=site.pk))
    _deployed(site, cast, 8, start=2)
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(url("history", pk=site.pk)).content.decode()
    assert page.count('class="badge succeeded"') == 10
