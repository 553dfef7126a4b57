"""POST /hooks/<site>/<provider>: every provider's signed push deploys; refusals never do."""

from __future__ import annotations

import uuid

import pytest

from deployments.models import Deployment
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tests.webhooks.signing import SHA, push
from webhooks import receive, views
from webhooks.models import WebhookDelivery
from webhooks.secrets import webhook_secret_rotate

PROVIDERS = ("github", "gitlab", "bitbucket", "gitea", "forgejo", "custom")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_it_queues_a_deployment_of_the_pushed_commit(deliver, secret, provider):
    response = deliver(provider, *push(provider, secret))
    deployment = Deployment.objects.get()
    assert response.status_code == 202
    assert (deployment.status, deployment.commit_sha, deployment.trigger) == \
        ("queued", SHA, "webhook")
    assert WebhookDelivery.objects.get().reason == f"deployed {deployment.label}"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_it_answers_401_to_a_bad_signature_and_records_it(deliver, secret, provider):
    response = deliver(provider, *push(provider, "not the secret"))
    assert response.status_code == 401
    assert not Deployment.objects.exists()
    assert WebhookDelivery.objects.get().reason.startswith("refused: bad signature")


def test_it_answers_401_when_the_site_has_no_secret(deliver, site):
    response = deliver("github", *push("github", ""))
    assert response.status_code == 401
    assert not Deployment.objects.exists()


def test_it_answers_401_to_an_unsigned_delivery(deliver, secret):
    body, _headers = push("github", secret)
    assert deliver("github", body, {"X-GitHub-Event": "push"}).status_code == 401


def test_it_answers_401_to_a_signature_over_other_bytes(deliver, secret):
    body, headers = push("github", secret)
    assert deliver("github", body.replace(b"main", b"mainx"), headers).status_code == 401
    assert not Deployment.objects.exists()


def test_it_answers_400_to_a_signed_malformed_ref(deliver, secret):
    response = deliver("github", *push("github", secret, ref="refs/heads/a..b"))
    assert response.status_code == 400
    assert not Deployment.objects.exists()


@pytest.mark.parametrize("kwargs,reason", [
    ({"ref": "refs/heads/develop"}, "ignored: branch develop"),
    ({"ref": "refs/tags/v1"}, "ignored: tag v1"),
    ({"after": "0" * 40}, "ignored: branch main deleted"),
    ({"repository": "evil/app"}, "ignored: another repository"),
])
def test_it_ignores_pushes_that_should_not_deploy(deliver, secret, kwargs, reason):
    response = deliver("github", *push("github", secret, **kwargs))
    assert (response.status_code, response.json()["reason"]) == (200, reason)
    assert not Deployment.objects.exists()


def test_it_ignores_pushes_when_auto_deploy_is_off(deliver, site, secret):
    site.auto_deploy = False
    site.save()
    response = deliver("github", *push("github", secret))
    assert response.json()["reason"] == "ignored: auto-deploy is off"
    assert not Deployment.objects.exists()


def test_it_answers_duplicate_to_a_redelivery(deliver, secret):
    body, headers = push("github", secret, delivery="abc")
    deliver("github", body, headers)
    response = deliver("github", body, headers)
    assert (response.status_code, response.json()["decision"]) == (200, "duplicate")
    assert Deployment.objects.count() == 1


def test_it_does_not_let_a_forged_delivery_squat_a_delivery_id(deliver, secret):
    deliver("github", *push("github", "forged", delivery="future-id"))
    response = deliver("github", *push("github", secret, delivery="future-id"))
    assert response.status_code == 202


def test_it_refuses_a_body_over_the_cap_before_reading_it(deliver, secret, monkeypatch):
    monkeypatch.setattr(views, "MAX_BODY_BYTES", 64)
    response = deliver("github", *push("github", secret))
    assert response.status_code == 413
    assert not Deployment.objects.exists()


def test_it_answers_404_for_an_unknown_site_or_provider(deliver, client, site, secret):
    body, headers = push("github", secret)
    assert client.post(f"/hooks/{uuid.uuid4()}/github", body, content_type="application/json",
                       headers=headers).status_code == 404
    assert deliver("svn", body, headers).status_code == 404


def test_it_answers_405_to_get(client, site):
    assert client.get(f"/hooks/{site.webhook_uuid}/github").status_code == 405


def test_it_refuses_the_old_secret_after_rotation(deliver, cast, site, secret):
    new = webhook_secret_rotate(site=site, actor=Actor(user=cast.owner))
    assert deliver("github", *push("github", secret)).status_code == 401
    assert deliver("github", *push("github", new)).status_code == 202
    assert AuditEvent.objects.filter(verb="site.webhook_secret_rotated").count() == 1


def test_it_stops_recording_a_flood_of_refusals_but_keeps_refusing(deliver, secret, monkeypatch):
    monkeypatch.setattr(receive, "REFUSALS_RECORDED_PER_MINUTE", 2)
    statuses = [deliver("github", *push("github", "forged")).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    assert WebhookDelivery.objects.count() == 2


def test_it_audits_webhook_deployments_as_the_webhook(deliver, secret):
    deliver("github", *push("github", secret))
    event = AuditEvent.objects.get(verb="deployment.requested")
    assert (event.source, event.actor, event.actor_name) == ("webhook", None, "webhook")
