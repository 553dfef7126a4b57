"""One source for "environment keys changed since the live release": the site page, the plan
and the release diff all compare the environment version the live release shipped with the one
the next deploy ships (deployments/envkeys.py), over a real sequence of edits and deploys."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deployments.models import Status, Trigger
from deployments.plan import site_plan
from deployments.release_diff import deployment_changes
from deployments.services import rollback_request
from deployments.tasks import run_deployment
from sites.services import site_env_update
from tenancy.audit import Actor
from tests.fixtures.stage import Stage

pytestmark = [pytest.mark.ssh, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

EXPECTED = {"added": ["MAIL_HOST", "NEW_KEY"], "removed": [], "changed": ["APP_NAME"]}
NOTHING = {"added": [], "removed": [], "changed": []}


def _deployed(stage: Stage, version: str):
    deployment = stage.deploy(stage.release(version))
    run_deployment(deployment.pk)
    deployment.refresh_from_db()
    return deployment


def _edit(stage: Stage, cast, **env) -> None:
    site_env_update(site=stage.site, actor=Actor(user=cast.developer),
                    env={**stage.site.env, **env}, secret_env_names=[])


def _site_page(stage: Stage, client) -> dict:
    url = reverse("sites:detail", kwargs={"org": "acme", "pk": stage.site.pk})
    return client.get(url).context["env_since_live"].as_dict()


def _plan(stage: Stage) -> dict:
    return site_plan(site=stage.site, commit=None).changes.env


def test_the_site_page_the_plan_and_the_diff_name_the_same_keys(stage: Stage, cast,
                                                                 client_for):
    client = client_for(cast.owner)
    first = _deployed(stage, "1.0.0")
    assert _site_page(stage, client) == _plan(stage) == NOTHING
    _edit(stage, cast, APP_NAME="Renamed", NEW_KEY="one")
    _edit(stage, cast, NEW_KEY="two", MAIL_HOST="smtp.example.test")
    assert _site_page(stage, client) == _plan(stage) == EXPECTED
    second = _deployed(stage, "2.0.0")
    changes, _ = deployment_changes(second)
    assert (first.env_version.number, second.env_version.number) == (1, 3)
    assert second.env_changes == changes.env == EXPECTED
    assert _site_page(stage, client) == _plan(stage) == NOTHING


def test_after_a_rollback_they_compare_with_the_version_it_brought_back(stage: Stage, cast,
                                                                       client_for):
    first = _deployed(stage, "1.0.0")
    _edit(stage, cast, APP_NAME="Renamed", NEW_KEY="one", MAIL_HOST="smtp.example.test")
    _deployed(stage, "2.0.0")
    rollback = rollback_request(site=stage.site, release=first.release, actor=Actor.system(),
                                trigger=Trigger.MANUAL)
    run_deployment(rollback.pk)
    rollback.refresh_from_db()
    assert (rollback.status, rollback.env_version.number) == (Status.SUCCEEDED, 1)
    assert _site_page(stage, client_for(cast.owner)) == _plan(stage) == EXPECTED


def test_the_deployment_page_and_api_name_the_version_it_shipped(stage: Stage, cast,
                                                                 client_for, api_as):
    _deployed(stage, "1.0.0")
    _edit(stage, cast, APP_NAME="Renamed")
    second = _deployed(stage, "2.0.0")
    url = reverse("deployments:detail", kwargs={"org": "acme", "pk": second.pk})
    page = client_for(cast.viewer).get(url).content.decode()
    assert "version 2" in page and "Renamed" not in page
    body = api_as("viewer").get(f"/api/v1/deployments/{second.pk}/").json()
    assert body["env_version"] == 2
    history = api_as("viewer").get(f"/api/v1/sites/{stage.site.pk}/deployments/").json()
    assert [row["env_version"] for row in history["results"]] == [2, 1]
