"""The plan asks `php artisan migrate:status` in the live release for the migrations that
will run, and falls back to the file diff when that fails, saying which it used. The suite has
no Laravel: the repository carries a real PHP stand-in `artisan` that prints what Laravel 10
prints, its "database" being a file of migration names beside the deploy path."""

from __future__ import annotations

import pytest

from deployments.models import Status
from deployments.plan import site_plan
from tests.deployments.test_plan import listing, run
from tests.deployments.test_release_intel import ADD_SLUG, CREATE_POSTS, DROP_TITLE, MIGRATIONS
from tests.fixtures.stage import make_stage

pytestmark = [pytest.mark.ssh, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stage(cast, sshd_host, tmp_path):
    """A Laravel site (Deploynix runs artisan for Laravel sites only)."""
    return make_stage(cast, sshd_host, tmp_path, preset="laravel")


ARTISAN = """<?php
// Stand-in for Laravel's artisan: `migrate:status` marks each database/migrations file Ran
// when its name is a line of ../../migrated.txt (the release's deploy path), else Pending.
if (($argv[1] ?? '') !== 'migrate:status') { exit(0); }  // migrate, caches: nothing to do
$ran = @file(__DIR__ . '/../../migrated.txt', FILE_IGNORE_NEW_LINES) ?: [];
echo "\\n  Migration name .................................... Batch / Status  \\n";
foreach (glob(__DIR__ . '/database/migrations/*.php') as $file) {
    $name = basename($file, '.php');
    echo '  ', $name, ' ', str_repeat('.', 20), ' ',
        in_array($name, $ran, true) ? '[1] Ran' : 'Pending', "\\n";
}
"""
BROKEN_ARTISAN = """<?php
// The database went away after the deploy: migrate:status cannot ask it.
if (($argv[1] ?? '') !== 'migrate:status') { exit(0); }
fwrite(STDERR, "SQLSTATE[HY000] [2002] Connection refused\\n");
exit(1);
"""
CREATE = "2024_01_01_000000_create_posts"
LEGACY = "2024_01_15_000000_drop_legacy"


def live_with_artisan(stage, artisan: str) -> str:
    """v1 live with its artisan and two migrations, of which the database ran only the first
    (the second failed, say); then v2 in the mirror with two new migrations. Returns v2."""
    run_ok(stage, stage.repo.commit({"artisan": artisan,
                                     f"{MIGRATIONS}{CREATE}.php": CREATE_POSTS,
                                     f"{MIGRATIONS}{LEGACY}.php": DROP_TITLE}, "Posts"))
    (stage.deploy_path / "migrated.txt").write_text(f"{CREATE}\n")
    new = stage.repo.commit({f"{MIGRATIONS}2024_02_01_000000_drop_title.php": DROP_TITLE,
                             f"{MIGRATIONS}2024_02_03_000000_add_slug.php": ADD_SLUG}, "More")
    script, stage.site.deploy_script = stage.site.deploy_script, "exit 3"
    stage.site.save()
    assert run(stage.deploy(new)).status == Status.FAILED  # fetched into the mirror only
    stage.site.deploy_script = script
    stage.site.save()
    return new


def run_ok(stage, commit: str) -> None:
    deployment = run(stage.deploy(commit))
    assert deployment.status == Status.SUCCEEDED, deployment.error


def names(plan) -> list[str]:
    return [m["path"].removeprefix(MIGRATIONS) for m in plan.changes.migrations]


def test_the_pending_rows_of_migrate_status_are_migrations_that_will_run(stage):
    new = live_with_artisan(stage, ARTISAN)
    plan = site_plan(site=stage.site, commit=new)
    assert plan.migrations_source == "migrate:status"
    assert names(plan) == [f"{LEGACY}.php", "2024_02_01_000000_drop_title.php",
                           "2024_02_03_000000_add_slug.php"]
    assert plan.button_label == f"Deploy {new[:7]} — 1 commit, 3 migrations (2 destructive)"


def test_a_failing_migrate_status_falls_back_to_the_file_diff_and_says_so(stage):
    new = live_with_artisan(stage, BROKEN_ARTISAN)
    plan = site_plan(site=stage.site, commit=new)
    assert plan.migrations_source == "files"
    assert names(plan) == ["2024_02_01_000000_drop_title.php", "2024_02_03_000000_add_slug.php"]
    assert any(w.startswith("Migrations from the file diff: migrate:status failed")
               for w in plan.warnings)


def test_asking_migrate_status_changes_nothing_on_the_server(stage):
    new = live_with_artisan(stage, ARTISAN)
    before = listing(stage.deploy_path)
    assert site_plan(site=stage.site, commit=new).migrations_source == "migrate:status"
    assert listing(stage.deploy_path) == before


def test_a_plain_php_site_is_not_asked(stage):
    stage.site.preset = "php"
    stage.site.save()
    new = live_with_artisan(stage, ARTISAN)
    plan = site_plan(site=stage.site, commit=new)
    assert (plan.migrations_source, plan.status) == ("files", None)
