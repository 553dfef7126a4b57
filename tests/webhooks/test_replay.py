"""Replays and stale pushes never move a site backwards.

GitHub (and every HMAC provider) signs the body, not the delivery id: a captured push re-sent
with a fresh id verifies. Such a replay, the same id at another provider's endpoint, and a
GitLab retry (same Idempotency-Key) are recorded as duplicates and deploy nothing. A push whose
commit is older than the live one (delivered late, or replayed with a body we never saw) is
refused by the deploy itself on the server's git mirror; the inbox says why.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from deployments.models import Deployment, Status
from deployments.tasks import run_deployment
from tests.fixtures.stage import Stage, finished, make_stage
from tests.webhooks.signing import payload, signed
from webhooks.models import Decision, WebhookDelivery
from webhooks.secrets import webhook_secret_ensure

OLD, NEW = "1" * 40, "2" * 40


def github_push(secret: str, after: str, delivery: str | None = None, repository=None):
    data = payload("github", after=after)
    if repository is not None:
        data["repository"] = {"ssh_url": repository}
    body = json.dumps(data).encode()
    return body, signed("github", secret, body, delivery=delivery)


@pytest.mark.django_db
def test_it_refuses_a_captured_push_replayed_with_a_new_delivery_id(deliver, secret):
    body, headers = github_push(secret, OLD)
    assert deliver("github", body, headers).status_code == 202
    headers["X-GitHub-Delivery"] = str(uuid.uuid4())  # unsigned: the attacker picks a new one
    response = deliver("github", body, headers)
    assert response.json()["decision"] == Decision.DUPLICATE
    assert Deployment.objects.count() == 1
    assert "replay" in WebhookDelivery.objects.first().reason


@pytest.mark.django_db
def test_it_refuses_a_delivery_id_already_handled_at_another_provider(deliver, secret):
    delivery = str(uuid.uuid4())
    body, headers = github_push(secret, OLD, delivery=delivery)
    deliver("github", body, headers)
    gitea_body = json.dumps(payload("gitea", after=NEW)).encode()
    response = deliver("gitea", gitea_body, signed("gitea", secret, gitea_body, delivery=delivery))
    assert response.json()["decision"] == Decision.DUPLICATE
    assert Deployment.objects.count() == 1


@pytest.mark.django_db
def test_it_dedupes_gitlab_retries_by_their_idempotency_key(deliver, secret):
    key = str(uuid.uuid4())
    for after in (OLD, NEW):  # a retry gets a new event UUID; the key stays
        body = json.dumps(payload("gitlab", after=after)).encode()
        headers = {**signed("gitlab", secret, body), "Idempotency-Key": key}
        response = deliver("gitlab", body, headers)
    assert response.json()["decision"] == Decision.DUPLICATE
    assert Deployment.objects.count() == 1


# On a real server: the commit is checked against the fetched branch and the live commit. ----


@pytest.fixture
def stage(cast, sshd_host, tmp_path: Path) -> Stage:
    return make_stage(cast, sshd_host, tmp_path, auto_deploy=True)


def push_and_run(client, stage: Stage, sha: str) -> Deployment:
    body, headers = github_push(webhook_secret_ensure(site=stage.site), sha,
                                repository=stage.site.repository_url)
    response = client.post(f"/hooks/{stage.site.webhook_uuid}/github", data=body,
                           content_type="application/json", headers=headers)
    assert response.status_code == 202, response.content
    run_deployment(response.json()["deployment"])
    [deployment] = finished(Deployment.objects.get(pk=response.json()["deployment"]))
    return deployment


def live_commit(stage: Stage) -> str:
    return (stage.deploy_path / "current" / "REVISION").read_text().strip()


@pytest.mark.ssh
@pytest.mark.django_db(transaction=True)
def test_it_refuses_a_late_push_of_an_older_commit_and_says_why(client, stage):
    older, newer = stage.release("1.0.0"), stage.release("1.1.0")
    assert push_and_run(client, stage, newer).status == Status.SUCCEEDED
    stale = push_and_run(client, stage, older)
    assert (stale.status, stale.failed_step) == (Status.FAILED, "fetch_code")
    assert live_commit(stage) == newer
    delivery = WebhookDelivery.objects.get(deployment=stale)
    assert delivery.decision == Decision.STALE and "stale push" in delivery.reason, stale.error


@pytest.mark.ssh
@pytest.mark.django_db(transaction=True)
def test_it_deploys_a_descendant_of_the_live_commit_even_if_not_the_tip(client, stage):
    assert push_and_run(client, stage, stage.release("1.0.0")).status == Status.SUCCEEDED
    child = stage.release("1.0.1")
    stage.release("1.0.2")  # the branch moved on: the child is no longer the tip
    deployment = push_and_run(client, stage, child)
    assert deployment.status == Status.SUCCEEDED, deployment.error
    assert live_commit(stage) == child


@pytest.mark.django_db
def test_it_keeps_a_push_refused_as_stale_claimed(deliver, secret):
    body, headers = github_push(secret, OLD)
    deliver("github", body, headers)
    WebhookDelivery.objects.update(decision=Decision.STALE)  # as its deploy refused it
    headers["X-GitHub-Delivery"] = str(uuid.uuid4())
    assert deliver("github", body, headers).json()["decision"] == Decision.DUPLICATE
    assert Deployment.objects.count() == 1


@pytest.mark.django_db
def test_it_shows_why_a_replay_was_refused_on_the_inbox_page(deliver, secret, site, cast,
                                                             client_for):
    body, headers = github_push(secret, OLD)
    deliver("github", body, headers)
    headers["X-GitHub-Delivery"] = str(uuid.uuid4())
    deliver("github", body, headers)
    page = client_for(cast.viewer).get(f"/o/acme/sites/{site.pk}/webhook/").content.decode()
    assert "duplicate: replay of delivery" in page
