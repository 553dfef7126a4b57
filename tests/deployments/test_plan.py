"""The plan (dry run) of a deploy, in the UI and over the API, on a real site: it reads the
servers and changes nothing there; a deploy of the live commit is skipped unless forced."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse

from deployments.models import Deployment, Status
from deployments.tasks import run_deployment
from tenancy.roles import Cap
from tests.deployments.test_release_intel import ADD_SLUG, DROP_TITLE, MIGRATIONS, RENAME_BODY
from tests.fixtures.matrix import EVERYONE, assert_page_access

pytestmark = [pytest.mark.ssh, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under `root` (symlinks not followed) -> (mode, mtime in ns)."""
    seen = {}
    for directory, names, files in os.walk(root):
        for name in [*names, *files]:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            seen[os.path.relpath(path, root)] = (info.st_mode, info.st_mtime_ns)
    return seen


def run(deployment: Deployment) -> Deployment:
    run_deployment(deployment.pk)
    deployment.refresh_from_db()
    return deployment


@pytest.fixture
def pending(stage):
    """v1 live; v2 (three migrations, two destructive) in the server's mirror, not live: a
    deploy of it failed at its deploy script, after the fetch."""
    live = run(stage.deploy(stage.release("1.0.0")))
    assert live.status == Status.SUCCEEDED, live.error
    new = stage.repo.commit({f"{MIGRATIONS}2024_02_01_000000_drop_title.php": DROP_TITLE,
                             f"{MIGRATIONS}2024_02_02_000000_rename_body.php": RENAME_BODY,
                             f"{MIGRATIONS}2024_02_03_000000_add_slug.php": ADD_SLUG},
                            "Reshape posts")
    script, stage.site.deploy_script = stage.site.deploy_script, "exit 3"
    stage.site.save()
    assert run(stage.deploy()).status == Status.FAILED
    stage.site.deploy_script = script
    stage.site.save()
    return live.commit_sha, new


def plan_url(stage, org="acme") -> str:
    return reverse("sites:plan", kwargs={"org": org, "pk": stage.site.pk})


def test_the_plan_changes_nothing_on_the_server(stage, pending, cast, client_for):
    before = listing(stage.deploy_path)
    response = client_for(cast.developer).get(plan_url(stage))
    assert response.status_code == 200
    assert listing(stage.deploy_path) == before


def test_the_plan_shows_steps_commands_diff_and_the_migration_warning(stage, pending, api_as):
    live, new = pending
    plan = api_as("developer").get(f"/api/v1/sites/{stage.site.pk}/plan/").json()
    assert (plan["base"], plan["target"], plan["already_live"]) == (live, new, False)
    assert plan["migration_label"] == "3 migrations, 2 destructive"
    assert [c["subject"] for c in plan["changes"]["commits"]] == ["Reshape posts"]
    steps = {s["step"]: s["commands"] for s in plan["servers"][0]["steps"]}
    assert any(new in command for command in steps["fetch_code"])
    assert any("drop_title.php: dropColumn" in warning for warning in plan["warnings"])


def test_the_deploy_button_on_the_plan_says_how_many_migrations(stage, pending, cast,
                                                                 client_for):
    page = client_for(cast.developer).get(plan_url(stage)).content.decode()
    assert "Deploy (3 migrations, 2 destructive)" in page
    assert "Nothing was changed on any server" in page


def test_the_plan_of_the_live_commit_says_already_live(stage, api_as):
    live = run(stage.deploy(stage.release("1.0.0")))
    plan = api_as("developer").get(f"/api/v1/sites/{stage.site.pk}/plan/").json()
    assert (plan["target"], plan["already_live"]) == (live.commit_sha, True)
    assert any(w.startswith("already live") for w in plan["warnings"])


def test_the_api_skips_a_deploy_of_the_live_commit_unless_forced(stage, api_as):
    run(stage.deploy(stage.release("1.0.0")))
    api = api_as("developer")
    skipped = api.post(f"/api/v1/sites/{stage.site.pk}/deployments/", {}).json()
    assert run(Deployment.objects.get(pk=skipped["id"])).status == Status.SKIPPED
    forced = api.post(f"/api/v1/sites/{stage.site.pk}/deployments/", {"force": True}).json()
    assert forced["force"] is True
    assert run(Deployment.objects.get(pk=forced["id"])).status == Status.SUCCEEDED


def test_the_deploy_form_forces_with_its_checkbox(stage, cast, client_for):
    run(stage.deploy(stage.release("1.0.0")))
    client = client_for(cast.developer)
    client.post(reverse("sites:deploy", kwargs={"org": "acme", "pk": stage.site.pk}),
                {"force": "1"})
    assert Deployment.objects.latest("id").force is True


@pytest.mark.parametrize("who", EVERYONE)
def test_the_plan_page_follows_the_role_matrix(stage, client_for, cast, who):
    response = client_for(cast.user(who)).get(plan_url(stage))
    assert_page_access(response, Cap.DEPLOY, who)
