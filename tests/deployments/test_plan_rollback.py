"""The plan of a rollback, on a real repository deployed over the test sshd: the release that
becomes live, the commits that go away, and the migrations the database keeps."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deployments.models import Deployment, Kind
from tenancy.roles import Cap
from tests.deployments import test_release_intel
from tests.deployments.test_plan import listing, run
from tests.fixtures.matrix import EVERYONE, assert_page_access

pytestmark = [pytest.mark.ssh, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
two_releases = test_release_intel.two_releases  # a base release, then one with 3 migrations

KEPT = ["database/migrations/2024_02_01_000000_drop_title.php",
        "database/migrations/2024_02_02_000000_rename_body.php",
        "database/migrations/2024_02_03_000000_add_slug.php"]


def plan_api(stage, release: str) -> str:
    return f"/api/v1/sites/{stage.site.pk}/rollback/plan/?release={release}"


def plan_page(stage, release: str) -> str:
    return reverse("sites:rollback-plan",
                   kwargs={"org": "acme", "pk": stage.site.pk, "release": release})


def test_it_says_which_release_becomes_live_and_the_commits_that_go_away(
    stage, two_releases, api_as
):
    first, second, locks, schema = two_releases
    plan = api_as("developer").get(plan_api(stage, first.release)).json()
    assert (plan["release"], plan["commit"]) == (first.release, first.commit_sha)
    assert (plan["live_release"], plan["live_commit"]) == (second.release, second.commit_sha)
    assert [c["sha"] for c in plan["commits_gone"]] == [schema, locks]


def test_it_warns_that_the_database_stays_migrated_with_the_list(stage, two_releases, api_as):
    plan = api_as("developer").get(plan_api(stage, two_releases[0].release)).json()
    assert plan["migrations_kept"] == KEPT
    assert plan["warnings"][0].startswith("The database stays migrated: 3 migrations that the "
                                          "live release ran are not in release")


def test_the_page_shows_it_and_changes_nothing(stage, two_releases, cast, client_for):
    first = two_releases[0]
    before = listing(stage.deploy_path)
    page = client_for(cast.developer).get(plan_page(stage, first.release)).content.decode()
    assert "The database stays migrated" in page and "2024_02_01_000000_drop_title.php" in page
    assert listing(stage.deploy_path) == before
    assert not Deployment.objects.filter(kind=Kind.ROLLBACK).exists()


def test_the_history_offers_the_plan_beside_each_rollback(stage, two_releases, cast,
                                                          client_for):
    url = reverse("sites:history", kwargs={"org": "acme", "pk": stage.site.pk})
    page = client_for(cast.developer).get(url).content.decode()
    assert f'href="{plan_page(stage, two_releases[0].release)}"' in page


def test_a_release_that_is_no_target_is_refused(stage, two_releases, api_as):
    response = api_as("developer").get(plan_api(stage, two_releases[1].release))
    assert response.status_code == 400 and "release" in response.json()


@pytest.mark.parametrize("who", EVERYONE)
def test_the_rollback_plan_page_follows_the_role_matrix(stage, client_for, cast, who):
    first = run(stage.deploy(stage.release("1.0.0")))
    run(stage.deploy(stage.release("2.0.0")))
    response = client_for(cast.user(who)).get(plan_page(stage, first.release))
    assert_page_access(response, Cap.DEPLOY, who)
