"""Every site and deployment endpoint × every role: 302 to log in, 404 outside, 403 without the
capability, success with it. Expected codes come from the capability table itself."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deployments import lifecycle
from deployments.models import Deployment, Status, Trigger
from deployments.services import deployment_request
from tenancy.audit import Actor
from tenancy.roles import Cap
from tests.fixtures.matrix import EVERYONE, assert_page_access

# (name, method, capability, url name, which object the URL needs)
ENDPOINTS = [
    ("site list", "get", Cap.VIEW, "sites:list", None),
    ("site create form", "get", Cap.EDIT_SITES, "sites:create", None),
    ("site detail", "get", Cap.VIEW, "sites:detail", "site"),
    ("site edit form", "get", Cap.EDIT_SITES, "sites:edit", "site"),
    ("site history", "get", Cap.VIEW, "sites:history", "site"),
    ("site delete", "post", Cap.MANAGE_SERVERS, "sites:delete", "site"),
    ("deploy", "post", Cap.DEPLOY, "sites:deploy", "site"),
    ("rollback", "post", Cap.DEPLOY, "sites:rollback", "release"),
    ("deployment list", "get", Cap.VIEW, "deployments:list", None),
    ("deployment detail", "get", Cap.VIEW, "deployments:detail", "deployment"),
    ("deployment log", "get", Cap.VIEW, "deployments:log-download", "deployment"),
    ("cancel", "post", Cap.DEPLOY, "deployments:cancel", "deployment"),
]


def _deployed(site, n: int) -> Deployment:
    deployment = deployment_request(
        site=site, actor=Actor.system(), trigger=Trigger.API, commit=f"{n:040x}"
    )
    lifecycle.deployment_claim(deployment.pk)
    Deployment.objects.filter(pk=deployment.pk).update(release=f"2030010100{n:04d}")
    lifecycle.deployment_finish(deployment_id=deployment.pk, status=Status.SUCCEEDED)
    return Deployment.objects.get(pk=deployment.pk)


def _url(url_name: str, needs: str | None, site) -> str:
    kwargs = {"org": "acme"}
    if needs in ("site", "release"):
        kwargs["pk"] = site.pk
    if needs == "release":
        kwargs["release"] = _deployed(site, 1).release
        _deployed(site, 2)
    if needs == "deployment":
        kwargs["pk"] = deployment_request(site=site, actor=Actor.system(), trigger=Trigger.API).pk
    return reverse(url_name, kwargs=kwargs)


@pytest.mark.parametrize("role", EVERYONE)
@pytest.mark.parametrize("name,method,cap,url_name,needs", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_it_applies_the_role_matrix(cast, site, client_for, role, name, method, cap, url_name,
                                    needs):
    url = _url(url_name, needs, site)
    response = getattr(client_for(cast.user(role)), method)(url)
    assert_page_access(response, cap, role, ok=200 if method == "get" else 302)
