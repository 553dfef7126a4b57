"""At most one queued deployment per site: a newer request replaces the waiting one.

The superseded request ends `cancelled` with the reason, audited and shown in the history, so
a flood of triggers runs the current deployment and then only the newest request.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from deployments import lifecycle, services
from deployments.models import Deployment, Status, Trigger
from deployments.services import deployment_request, rollback_request
from tenancy.audit import Actor
from tenancy.models import AuditEvent

SHA_A, SHA_B, SHA_C = "a" * 40, "b" * 40, "c" * 40


@pytest.fixture
def request_deploy(site, cast):
    def request(commit: str | None = None) -> Deployment:
        return deployment_request(site=site, actor=Actor(user=cast.developer),
                                  trigger=Trigger.MANUAL, commit=commit)

    return request


def test_it_replaces_the_waiting_deployment_with_the_newest_request(request_deploy):
    running = lifecycle.deployment_claim(request_deploy(SHA_A).pk)
    waiting, newest = request_deploy(SHA_B), request_deploy(SHA_C)
    statuses = dict(Deployment.objects.values_list("pk", "status"))
    assert statuses == {running.pk: Status.RUNNING, waiting.pk: Status.CANCELLED,
                        newest.pk: Status.QUEUED}
    assert Deployment.objects.get(pk=waiting.pk).error.startswith(f"superseded by {newest.label}")


def test_it_audits_the_superseded_request(request_deploy):
    waiting = request_deploy(SHA_A)
    newest = request_deploy(SHA_B)
    event = AuditEvent.objects.get(verb="deployment.superseded")
    assert (event.target_id, event.after["superseded_by"]) == (str(waiting.pk), newest.pk)


def test_it_lets_the_next_deployment_run_once_the_current_one_ends(request_deploy):
    running = lifecycle.deployment_claim(request_deploy(SHA_A).pk)
    request_deploy(SHA_B)
    newest = request_deploy(SHA_C)
    lifecycle.deployment_finish(deployment_id=running.pk, status=Status.SUCCEEDED)
    assert lifecycle.deployment_claim(newest.pk).commit_sha == SHA_C


def test_it_lets_a_rollback_request_replace_a_waiting_deploy(request_deploy, site, cast,
                                                              monkeypatch):
    waiting = request_deploy(SHA_A)
    monkeypatch.setattr(services, "_refresh_outdated_facts", lambda site, actor: None)
    monkeypatch.setattr(services, "_rollback_source",
                        lambda site, release: services.RollbackSource("main", SHA_B))
    rollback = rollback_request(site=site, release="20300101000000",
                                actor=Actor(user=cast.developer), trigger=Trigger.MANUAL)
    assert Deployment.objects.get(pk=waiting.pk).status == Status.CANCELLED
    assert Deployment.objects.get(pk=rollback.pk).status == Status.QUEUED


def test_it_shows_why_a_request_was_superseded_in_the_history(request_deploy, site, cast,
                                                               client_for):
    request_deploy(SHA_A)
    newest = request_deploy(SHA_B)
    url = reverse("sites:history", kwargs={"org": cast.org.slug, "pk": site.pk})
    page = client_for(cast.viewer).get(url).content.decode()
    assert f"superseded by {newest.label}" in page
