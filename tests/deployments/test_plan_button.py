"""The site page's Deploy button shows the plan before anything runs (loaded after the page),
and a deploy with destructive migrations needs a confirmation, in the UI and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deployments.models import Deployment, Status
from sites.freezes import freeze_window_create
from tenancy.audit import Actor
from tenancy.roles import Cap
from tests.deployments import test_plan
from tests.deployments.test_plan import run
from tests.fixtures.matrix import EVERYONE, assert_page_access

pytestmark = [pytest.mark.ssh, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
pending = test_plan.pending  # v1 live, v2 with three migrations (two destructive) in the mirror


def site_url(stage, name: str) -> str:
    return reverse(f"sites:{name}", kwargs={"org": "acme", "pk": stage.site.pk})


def deploys_api(stage) -> str:
    return f"/api/v1/sites/{stage.site.pk}/deployments/"


def test_the_site_page_loads_the_plan_after_the_page(stage, pending, cast, client_for):
    page = client_for(cast.developer).get(site_url(stage, "detail")).content.decode()
    assert f'hx-get="{site_url(stage, "plan-button")}" hx-trigger="load"' in page
    assert "destructive" not in page  # the page itself reads no server


def test_the_button_says_the_commit_the_commits_and_the_migrations(stage, pending, cast,
                                                                   client_for):
    new = pending[1]
    button = client_for(cast.developer).get(site_url(stage, "plan-button")).content.decode()
    assert f"Deploy {new[:7]} — 1 commit, 3 migrations (2 destructive)" in button
    assert 'name="confirm_destructive" value="1" required' in button
    assert f'name="commit" value="{new}"' in button  # confirmed: exactly the planned commit
    assert "drop_title.php: dropColumn" in button


def test_the_button_says_already_live(stage, cast, client_for):
    run(stage.deploy(stage.release("1.0.0")))
    button = client_for(cast.developer).get(site_url(stage, "plan-button")).content.decode()
    assert "Already live" in button
    assert "confirm_destructive" not in button


@pytest.fixture
def migrating(stage, pending):
    """The stage as a Laravel site, whose deploys run migrations (commands.migrate): only its
    deploy requests are checked (these tests never run the deploy, so no artisan is needed)."""
    stage.site.preset = "laravel"
    stage.site.save(update_fields=["preset"])
    return pending


def test_a_site_that_runs_no_migrations_has_none_to_confirm(stage, pending, cast, client_for):
    # A plain PHP site's deploy never runs database/migrations: queued without a confirmation.
    client_for(cast.developer).post(site_url(stage, "deploy"), {})
    assert Deployment.objects.latest("id").status == Status.QUEUED


def test_a_destructive_deploy_without_the_confirmation_is_refused(stage, migrating, cast,
                                                                  client_for):
    before = Deployment.objects.count()
    response = client_for(cast.developer).post(site_url(stage, "deploy"), {})
    assert response.status_code == 302 and response["Location"] == site_url(stage, "plan")
    assert Deployment.objects.count() == before


def test_a_destructive_deploy_with_the_confirmation_is_queued(stage, pending, cast, client_for):
    client_for(cast.developer).post(site_url(stage, "deploy"), {"confirm_destructive": "1"})
    deployment = Deployment.objects.latest("id")
    assert (deployment.status, deployment.commit_sha) == (Status.QUEUED, "")


def test_the_api_answers_409_with_the_destructive_migrations(stage, migrating, api_as):
    before = Deployment.objects.count()
    response = api_as("developer").post(deploys_api(stage), {})
    assert response.status_code == 409
    assert [(m["path"].rsplit("/", 1)[1], m["destructive"])
            for m in response.json()["destructive"]] == [
        ("2024_02_01_000000_drop_title.php", ["dropColumn"]),
        ("2024_02_02_000000_rename_body.php", ["renameColumn"])]
    assert Deployment.objects.count() == before


def test_the_api_queues_a_destructive_deploy_once_confirmed(stage, pending, api_as):
    response = api_as("developer").post(deploys_api(stage), {"confirm_destructive": True})
    assert response.status_code == 202
    assert run(Deployment.objects.get(pk=response.json()["id"])).status == Status.SUCCEEDED


def test_the_api_plan_says_the_button_and_the_destructive_ones(stage, pending, api_as):
    plan = api_as("developer").get(f"/api/v1/sites/{stage.site.pk}/plan/").json()
    assert plan["button_label"] == f"Deploy {pending[1][:7]} — 1 commit, 3 migrations " \
                                   "(2 destructive)"
    assert (len(plan["destructive"]), plan["migrations_source"]) == (2, "files")


@pytest.mark.parametrize("who", EVERYONE)
def test_the_plan_button_follows_the_role_matrix(stage, client_for, cast, who):
    response = client_for(cast.user(who)).get(site_url(stage, "plan-button"))
    assert_page_access(response, Cap.DEPLOY, who)


def test_during_a_freeze_the_plan_page_asks_for_the_reason_beside_the_confirmation(
    stage, pending, cast, client_for
):
    now = timezone.now()
    freeze_window_create(organization=cast.org, site=None, actor=Actor(user=cast.admin),
                         name="Black Friday", kind="once", starts_at=now - timedelta(minutes=1),
                         ends_at=now + timedelta(hours=2))
    client = client_for(cast.developer)
    client.post(site_url(stage, "deploy"), {"freeze_override": "hotfix"})
    page = client.get(site_url(stage, "plan")).content.decode()
    assert 'name="freeze_override" required' in page and 'name="confirm_destructive"' in page
    client.post(site_url(stage, "deploy"), {"freeze_override": "hotfix",
                                            "confirm_destructive": "1"})
    assert Deployment.objects.latest("id").freeze_override == "hotfix"
