"""Every token endpoint × every role, plus another organization's token and no token.

Allowed roles get a success; other members 403; the outsider's token (valid, other org) 404;
no token 401. Tokens carry every ability, so this exercises the role check on each request.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import timezone

from deployments.models import Deployment
from deployments.services import deployment_request
from servers.models import Server
from tenancy.audit import Actor
from tenancy.roles import Cap
from tests.fixtures.matrix import ROLES, allowed

OLD, NEW = "20261127000000", "20261127010000"

# (method, path with {server}/{site}/{deployment}, body, the capability it needs)
ENDPOINTS = [
    ("get", "/api/v1/servers/{server}/", None, Cap.VIEW),
    ("patch", "/api/v1/servers/{server}/", {"port": 2222}, Cap.MANAGE_SERVERS),
    ("post", "/api/v1/servers/{server}/check/", None, Cap.MANAGE_SERVERS),
    ("delete", "/api/v1/servers/{server}/", None, Cap.MANAGE_SERVERS),
    ("get", "/api/v1/sites/{site}/", None, Cap.VIEW),
    ("patch", "/api/v1/sites/{site}/", {"branch": "release"}, Cap.EDIT_SITES),
    ("delete", "/api/v1/sites/{site}/", None, Cap.MANAGE_SERVERS),
    ("get", "/api/v1/sites/{site}/releases/", None, Cap.VIEW),
    ("get", "/api/v1/sites/{site}/deployments/", None, Cap.VIEW),
    ("post", "/api/v1/sites/{site}/deployments/", {}, Cap.DEPLOY),
    ("post", "/api/v1/sites/{site}/rollback/", {"release": OLD}, Cap.DEPLOY),
    ("get", "/api/v1/sites/{site}/plan/", None, Cap.DEPLOY),
    ("get", "/api/v1/sites/{site}/rollback/plan/?release=" + OLD, None, Cap.DEPLOY),
    ("get", "/api/v1/sites/{site}/webhook/", None, Cap.VIEW_SECRETS),
    ("post", "/api/v1/sites/{site}/webhook/", None, Cap.VIEW_SECRETS),
    ("get", "/api/v1/deployments/{deployment}/", None, Cap.VIEW),
    ("get", "/api/v1/deployments/{deployment}/log/", None, Cap.VIEW),
    ("get", "/api/v1/deployments/{deployment}/changes/", None, Cap.VIEW),
    ("post", "/api/v1/deployments/{deployment}/cancel/", None, Cap.DEPLOY),
]
CASES = [(m, p, b, who, allowed(cap, who)) for m, p, b, cap in ENDPOINTS
         for who in sorted(ROLES)]


@dataclass
class World:
    server: Server
    site: object
    deployment: Deployment

    def path(self, template: str) -> str:
        return template.format(server=self.server.pk, site=self.site.pk,
                               deployment=self.deployment.pk)


@pytest.fixture
def world(cast, server, site) -> World:
    for release in (OLD, NEW):
        Deployment.objects.create(site=site, organization=cast.org, status="succeeded",
                                  release=release, commit_sha="c" * 40, branch="main",
                                  finished_at=timezone.now(), triggered_by_name="x")
    queued = deployment_request(site=site, actor=Actor(user=cast.owner), trigger="manual")
    return World(server=server, site=site, deployment=queued)


def call(api, method: str, path: str, body):
    return getattr(api, method)(path, body) if body is not None else getattr(api, method)(path)


@pytest.mark.parametrize("method,path,body,who,permitted", CASES)
def test_it_applies_the_role_matrix(api_as, world, method, path, body, who, permitted):
    response = call(api_as(who), method, world.path(path), body)
    if permitted:
        assert response.status_code < 300, response.content
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("method,path,body", [e[:3] for e in ENDPOINTS])
def test_it_answers_404_to_another_organizations_token(api_as, world, method, path, body):
    assert call(api_as("outsider"), method, world.path(path), body).status_code == 404


@pytest.mark.parametrize("method,path,body", [e[:3] for e in ENDPOINTS])
def test_it_answers_401_without_a_token(api_as, world, method, path, body):
    assert call(api_as("anonymous"), method, world.path(path), body).status_code == 401
