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

ALL = {"owner", "admin", "manager", "developer", "viewer"}
DEVS = {"owner", "admin", "manager", "developer"}
MANAGERS = {"owner", "admin", "manager"}
OLD, NEW = "20261127000000", "20261127010000"

# (method, path with {server}/{site}/{deployment}, body, roles allowed)
ENDPOINTS = [
    ("get", "/api/v1/servers/{server}/", None, ALL),
    ("patch", "/api/v1/servers/{server}/", {"port": 2222}, MANAGERS),
    ("post", "/api/v1/servers/{server}/check/", None, MANAGERS),
    ("delete", "/api/v1/servers/{server}/", None, MANAGERS),
    ("get", "/api/v1/sites/{site}/", None, ALL),
    ("patch", "/api/v1/sites/{site}/", {"branch": "release"}, DEVS),
    ("delete", "/api/v1/sites/{site}/", None, MANAGERS),
    ("get", "/api/v1/sites/{site}/releases/", None, ALL),
    ("get", "/api/v1/sites/{site}/deployments/", None, ALL),
    ("post", "/api/v1/sites/{site}/deployments/", {}, DEVS),
    ("post", "/api/v1/sites/{site}/rollback/", {"release": OLD}, DEVS),
    ("get", "/api/v1/sites/{site}/webhook/", None, DEVS),
    ("post", "/api/v1/sites/{site}/webhook/", None, DEVS),
    ("get", "/api/v1/deployments/{deployment}/", None, ALL),
    ("get", "/api/v1/deployments/{deployment}/log/", None, ALL),
    ("post", "/api/v1/deployments/{deployment}/cancel/", None, DEVS),
]
CASES = [(m, p, b, who, who in allowed) for m, p, b, allowed in ENDPOINTS
         for who in sorted(ALL)]


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


@pytest.mark.parametrize("method,path,body,who,allowed", CASES)
def test_it_applies_the_role_matrix(api_as, world, method, path, body, who, allowed):
    response = call(api_as(who), method, world.path(path), body)
    if allowed:
        assert response.status_code < 300, response.content
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("method,path,body", [e[:3] for e in ENDPOINTS])
def test_it_answers_404_to_another_organizations_token(api_as, world, method, path, body):
    assert call(api_as("outsider"), method, world.path(path), body).status_code == 404


@pytest.mark.parametrize("method,path,body", [e[:3] for e in ENDPOINTS])
def test_it_answers_401_without_a_token(api_as, world, method, path, body):
    assert call(api_as("anonymous"), method, world.path(path), body).status_code == 401
