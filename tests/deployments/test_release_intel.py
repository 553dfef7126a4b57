"""Release diff, migration warnings and skip-when-live, on a real repository deployed over the
test sshd (tests/fixtures/stage.py): real commits, real lock files, the server's own mirror."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from deployments.models import DeploymentStep, ReleaseDiff, Status, Trigger
from deployments.pipeline.steps import ALREADY_LIVE
from deployments.release_diff import deployment_changes
from deployments.services import deployment_request, rollback_request
from deployments.tasks import run_deployment
from sites.services import site_env_update
from tenancy.audit import Actor

pytestmark = [pytest.mark.ssh, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

CREATE_POSTS = """<?php
return new class extends Migration {
    public function up(): void
    {
        Schema::create('posts', function (Blueprint $table) {
            $table->id();
            $table->string('title');
        });
    }

    public function down(): void
    {
        Schema::dropIfExists('posts');
    }
};
"""
DROP_TITLE = CREATE_POSTS.replace("$table->id();\n            $table->string('title');",
                                  "$table->dropColumn('title');").replace("create", "table")
RENAME_BODY = CREATE_POSTS.replace("$table->id();\n            $table->string('title');",
                                   "$table->renameColumn('body', 'content');").replace(
                                       "create", "table")
ADD_SLUG = CREATE_POSTS.replace("$table->id();\n            $table->string('title');",
                                "$table->string('slug')->nullable();").replace("create", "table")
MIGRATIONS = "database/migrations/"


def composer_lock(**packages: str) -> str:
    return json.dumps({"packages": [{"name": n, "version": v} for n, v in packages.items()],
                       "packages-dev": []})


def npm_lock(**packages: str) -> str:
    entries = {"": {"name": "app"}} | {f"node_modules/{n}": {"version": v}
                                       for n, v in packages.items()}
    return json.dumps({"lockfileVersion": 3, "packages": entries})


def deployed(stage, commit: str | None = None, *, force: bool = False):
    deployment = deployment_request(site=stage.site, actor=Actor.system(), trigger=Trigger.API,
                                    commit=commit, force=force)
    run_deployment(deployment.pk)
    deployment.refresh_from_db()
    return deployment


@pytest.fixture
def two_releases(stage):
    """Live: a base release; then a release with real changes deployed over it."""
    stage.repo.commit({
        "composer.lock": composer_lock(**{"laravel/framework": "v10.1.0", "old/pkg": "1.0.0",
                                          "monolog/monolog": "3.5.0"}),
        "package-lock.json": npm_lock(vite="5.0.0", axios="1.6.0"),
        f"{MIGRATIONS}2024_01_01_000000_create_posts.php": CREATE_POSTS,
    }, "Base", author="Ada <ada@example.test>")
    first = deployed(stage)
    assert first.status == Status.SUCCEEDED, first.error
    locks = stage.repo.commit({
        "composer.lock": composer_lock(**{"laravel/framework": "v11.0.2", "new/pkg": "2.1.0",
                                          "monolog/monolog": "3.4.0"}),
        "package-lock.json": npm_lock(vite="5.1.0", lodash="4.17.21"),
    }, "Upgrade Laravel", author="Grace <grace@example.test>")
    schema = stage.repo.commit({
        f"{MIGRATIONS}2024_02_01_000000_drop_title.php": DROP_TITLE,
        f"{MIGRATIONS}2024_02_02_000000_rename_body.php": RENAME_BODY,
        f"{MIGRATIONS}2024_02_03_000000_add_slug.php": ADD_SLUG,
        "app/Post.php": "<?php\n",
    }, "Reshape posts", author="Ada <ada@example.test>")
    site_env_update(site=stage.site, actor=Actor.system(),
                    secret_env_names=list(stage.site.secret_env_names), env={
        **{k: v for k, v in stage.site.env.items() if k != "APP_NAME"},
        "DB_PASSWORD": "changed-secret", "MAIL_HOST": "smtp.example.test"})
    second = deployed(stage)
    assert second.status == Status.SUCCEEDED, second.error
    return first, second, locks, schema


def test_it_lists_the_commits_between_the_live_commit_and_the_new_one(two_releases):
    first, second, locks, schema = two_releases
    changes, error = deployment_changes(second)
    assert (second.base_commit, error) == (first.commit_sha, "")
    assert [(c["sha"], c["author"], c["subject"]) for c in changes.commits] == [
        (schema, "Ada <ada@example.test>", "Reshape posts"),
        (locks, "Grace <grace@example.test>", "Upgrade Laravel"),
    ]


def test_it_lists_lock_file_package_changes_exactly(two_releases):
    changes, _ = deployment_changes(two_releases[1])
    assert changes.packages["composer.lock"] == {
        "added": [{"name": "new/pkg", "version": "2.1.0"}],
        "removed": [{"name": "old/pkg", "version": "1.0.0"}],
        "upgraded": [{"name": "laravel/framework", "from": "v10.1.0", "to": "v11.0.2"}],
        "downgraded": [{"name": "monolog/monolog", "from": "3.5.0", "to": "3.4.0"}],
    }
    assert changes.packages["package-lock.json"] == {
        "added": [{"name": "lodash", "version": "4.17.21"}],
        "removed": [{"name": "axios", "version": "1.6.0"}],
        "upgraded": [{"name": "vite", "from": "5.0.0", "to": "5.1.0"}], "downgraded": [],
    }


def test_it_lists_env_key_changes_by_name_only(two_releases):
    first, second = two_releases[:2]
    assert second.env_changes == {"added": ["MAIL_HOST"], "removed": ["APP_NAME"],
                                  "changed": ["DB_PASSWORD"]}
    assert (first.env_version.number, second.env_version.number) == (1, 2)
    assert "changed-secret" not in json.dumps(second.env_changes)


def test_it_flags_destructive_migrations_and_not_a_plain_one(two_releases):
    changes, _ = deployment_changes(two_releases[1])
    assert changes.migrations == [
        {"path": f"{MIGRATIONS}2024_02_01_000000_drop_title.php", "destructive": ["dropColumn"]},
        {"path": f"{MIGRATIONS}2024_02_02_000000_rename_body.php",
         "destructive": ["renameColumn"]},
        {"path": f"{MIGRATIONS}2024_02_03_000000_add_slug.php", "destructive": []},
    ]
    assert changes.migration_label == "3 migrations, 2 destructive"


def test_it_groups_changed_files_by_area(two_releases):
    changes, _ = deployment_changes(two_releases[1])
    assert sorted(changes.diff["areas"]) == ["(root)", "app", "database"]
    assert changes.diff["areas"]["app"] == [{"status": "A", "path": "app/Post.php"}]


def test_a_rollback_across_migrations_lists_the_ones_the_database_keeps(stage, two_releases):
    first = two_releases[0]
    rollback = rollback_request(site=stage.site, release=first.release, actor=Actor.system(),
                                trigger=Trigger.API)
    run_deployment(rollback.pk)
    rollback.refresh_from_db()
    changes, _ = deployment_changes(rollback)
    assert [m["path"].rsplit("/", 1)[1] for m in changes.migrations] == [
        "2024_02_01_000000_drop_title.php", "2024_02_02_000000_rename_body.php",
        "2024_02_03_000000_add_slug.php"]


def test_a_deploy_of_the_live_commit_is_skipped_unless_forced(stage):
    live = deployed(stage, stage.release("1.0.0"))
    again = deployed(stage)
    forced = deployed(stage, force=True)
    assert (again.status, again.error.split(":")[1].strip()) == (Status.SKIPPED, ALREADY_LIVE)
    assert not (stage.deploy_path / "releases" / again.release).exists()
    assert (live.status, forced.status) == (Status.SUCCEEDED, Status.SUCCEEDED), forced.error


def test_the_history_warns_before_a_rollback_that_the_database_stays_migrated(
    stage, two_releases, cast, client_for
):
    first = two_releases[0]
    url = reverse("sites:history", kwargs={"org": "acme", "pk": stage.site.pk})
    page = client_for(cast.developer).get(url).content.decode()
    assert f'data-kept-migrations="{first.release}"' in page
    assert "The database stays migrated: 3 migrations ran since" in page


def test_a_deploy_is_not_skipped_when_a_server_does_not_serve_the_commit(stage):
    deployed(stage, stage.release("1.0.0"))
    (stage.deploy_path / "current" / "REVISION").write_text("0" * 40)  # changed by hand
    again = deployed(stage)
    assert again.status == Status.SUCCEEDED, again.error


def test_a_deploy_reads_its_release_diff_while_its_steps_run(stage):
    """Read once the commit is resolved, alongside the remaining steps (worker.DiffAheadSink):
    not after the last step, while the user waits for "Succeeded". The deploy script sleeps
    so the read has a step to overlap with."""
    first = deployed(stage)
    assert first.status == Status.SUCCEEDED, first.error
    stage.release("2.0.0")
    stage.site.deploy_script = "sleep 4"
    stage.site.save()
    second = deployed(stage)
    assert second.status == Status.SUCCEEDED, second.error
    kept = ReleaseDiff.objects.get(site=stage.site, base=first.commit_sha, target=second.commit_sha)
    script = DeploymentStep.objects.get(deployment=second, name="custom_script")
    assert kept.computed_at < script.finished_at
