"""`Idempotency-Key` on the API requests that queue work (deploy, rollback).

A client retrying after a timeout gets the deployment its first request queued, not a second
one; the same key with another body is refused (422); keys are per token and live a day.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import yaml
from django.db import connections
from django.test import Client
from django.utils import timezone

from deployments import lifecycle
from deployments.models import Deployment, IdempotencyKey, Status, Trigger
from deployments.services import deployment_request
from tenancy.audit import Actor
from tests.fixtures.api import mint

SHA_A, SHA_B = "a" * 40, "b" * 40


@pytest.fixture
def token(cast) -> str:
    return mint(cast.developer, cast.org)


@pytest.fixture
def post(client, site):
    def _post(token: str, data: dict, key: str | None = "retry-1", what: str = "deployments",
              using: Client | None = None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        if key is not None:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        return (using or client).post(f"/api/v1/sites/{site.pk}/{what}/", data,
                                      content_type="application/json", **headers)

    return _post


@pytest.mark.django_db
def test_it_returns_the_first_deployment_for_a_retried_key(post, token):
    first, retry = post(token, {"commit": SHA_A}), post(token, {"commit": SHA_A})
    assert (first.status_code, retry.status_code) == (202, 202)
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert Deployment.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_the_same_key_with_another_body(post, token):
    post(token, {"commit": SHA_A})
    response = post(token, {"commit": SHA_B})
    assert response.status_code == 422
    assert Deployment.objects.count() == 1


@pytest.mark.django_db
def test_it_forgets_a_key_after_a_day(post, token):
    first = post(token, {"commit": SHA_A}).json()["id"]
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert post(token, {"commit": SHA_B}).json()["id"] != first


@pytest.mark.django_db
def test_it_scopes_keys_to_the_token(post, token, cast):
    first = post(token, {"commit": SHA_A}).json()["id"]
    other = post(mint(cast.manager, cast.org), {"commit": SHA_B})  # same key, another token
    assert other.status_code == 202 and other.json()["id"] != first
    assert IdempotencyKey.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "two words", "caf\u00e9"])
def test_it_refuses_a_malformed_key(post, token, key):
    response = post(token, {"commit": SHA_A}, key=key)
    assert response.status_code == 400
    assert not Deployment.objects.exists()


@pytest.mark.django_db
def test_it_deploys_as_before_without_a_key(post, token):
    assert post(token, {"commit": SHA_A}, key=None).status_code == 202
    assert post(token, {"commit": SHA_B}, key=None).status_code == 202
    assert Deployment.objects.count() == 2


def _released(site, cast, release: str, commit: str) -> None:
    deployment = deployment_request(site=site, actor=Actor(user=cast.owner),
                                    trigger=Trigger.MANUAL, commit=commit)
    lifecycle.deployment_claim(deployment.pk)
    Deployment.objects.filter(pk=deployment.pk).update(release=release)
    lifecycle.deployment_finish(deployment_id=deployment.pk, status=Status.SUCCEEDED)


@pytest.mark.django_db
def test_it_makes_a_rollback_retry_safe_too(post, token, site, cast):
    _released(site, cast, "20300101000001", SHA_A)
    _released(site, cast, "20300101000002", SHA_B)
    body = {"release": "20300101000001"}
    first, retry = post(token, body, what="rollback"), post(token, body, what="rollback")
    assert first.status_code == 202, first.content
    assert retry.json()["id"] == first.json()["id"]
    assert Deployment.objects.filter(kind="rollback").count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_queues_once_for_concurrent_copies_of_one_request(post, token, site, cast):
    # A rollback, not a deploy: identical queued deploys collapse anyway, rollbacks do not.
    _released(site, cast, "20300101000001", SHA_A)
    _released(site, cast, "20300101000002", SHA_B)

    def send(_n):
        try:
            response = post(token, {"release": "20300101000001"}, what="rollback",
                            using=Client())
            return response.json()["id"]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(6) as pool:
        ids = set(pool.map(send, range(6)))
    assert len(ids) == 1
    assert Deployment.objects.filter(kind="rollback").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/sites/{id}/deployments/",
                                  "/api/v1/sites/{id}/rollback/"])
def test_it_documents_the_header_and_the_422_in_the_schema(client, path):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    operation = schema["paths"][path]["post"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert "Idempotency-Key" in headers
    assert {"202", "422"} <= set(operation["responses"])
