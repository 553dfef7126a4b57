"""Upgrading: every existing site gets its environment as version 1 (sites 0008), so the first
deploy after the upgrade ships and records a version like any other."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.django_db(transaction=True)]

BEFORE = [("sites", "0009_workers"), ("deployments", "0007_approvals_and_freezes")]
AFTER = [("sites", "0010_env_versions_and_hooks"), ("deployments", "0008_deployment_env_version")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    """Whatever the test migrated to, leave the schema at every app's newest migration."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_an_existing_site_gets_its_environment_as_version_one(cast, back_to_latest):
    old = _migrate(BEFORE)
    site = old.get_model("sites", "Site").objects.create(
        organization_id=cast.org.pk, name="legacy", repository_url="git@x.test:a/b.git",
        deploy_path="/srv/legacy", environment=json.dumps({"APP_NAME": "Legacy", "K": "v"}),
    )
    new = _migrate(AFTER)
    [version] = new.get_model("sites", "EnvironmentVersion").objects.filter(site_id=site.pk)
    assert (version.number, version.added) == (1, ["APP_NAME", "K"])
    assert json.loads(version.environment) == {"APP_NAME": "Legacy", "K": "v"}
