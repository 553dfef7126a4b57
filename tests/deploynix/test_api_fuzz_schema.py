"""Schemathesis, driven by our own OpenAPI schema, finds no 5xx anywhere in the API.

Requests go through the real Django WSGI handler and the real database, as the Owner with every
ability (the widest surface), against an organization with a server and a site.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from deploynix.wsgi import application
from servers.services import server_create
from sites.services import site_create
from tenancy.audit import Actor
from tests.fixtures.api import mint

SCHEMA_URL = "/api/v1/schema/?format=json"


@pytest.fixture
def api_schema(db):
    # Like Django's test client: keep the test's connection (and its transaction) open
    # across WSGI requests instead of closing it when each request finishes.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi(SCHEMA_URL, application)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def owner_token(cast, django_capture_on_commit_callbacks):
    actor = Actor(user=cast.owner)
    server = server_create(org=cast.org, actor=actor, name="web-1", host="127.0.0.1", port=22)
    site_create(organization=cast.org, actor=actor, servers=[server], name="app",
                repository_url="git@github.com:acme/app.git", branch="main",
                deploy_path="/srv/app")
    return mint(cast.owner, cast.org)


def fuzz(operation, token: str) -> None:
    """Up to 20 generated requests for one operation; any 5xx fails the test."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case):
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                               checks=[not_a_server_error])

    check()


def test_it_never_answers_with_a_server_error(api_schema, owner_token):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15  # the whole API, not an empty schema
    for operation in operations:
        fuzz(operation, owner_token)
