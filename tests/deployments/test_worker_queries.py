"""The worker's SQL statements per plain deploy, counted on every connection it opens (the
pipeline's database thread and the release diff's thread have their own), pinned so they
cannot creep back up (docs/benchmarks.md, "Worker cost per deployment").

Not counted: the sink's cancel poll and heartbeat, whose number follows the deploy's duration
(deployments/sink.py: every POLL_INTERVAL and HEARTBEAT_INTERVAL), and the log lines' COPY,
which psycopg runs outside Django's cursor wrappers."""

from __future__ import annotations

import pytest
from django.db import connection

from deployments.models import Status
from deployments.tasks import reconcile_site, run_deployment
from tests.fixtures.queries import all_queries

pytestmark = [
    pytest.mark.ssh, pytest.mark.redis, pytest.mark.django_db(transaction=True),
    # The budget is PostgreSQL's: SQLite adds a BEGIN IMMEDIATE per transaction and stores
    # log lines with INSERTs where PostgreSQL uses COPY.
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's budget"),
]

# Counted 2026-12-06 (the periodic statements aside): 93 on the code before the cuts
# of deployments/sink.py, lifecycle.py and the status receivers; 69 after, one more when the
# release name of that second is taken (lifecycle._assign_releases tries the next second).
# Then 80: the same 69 plus the reconcile that follows a succeeded deploy, now run in the
# worker from the pipeline's own last look at the servers (deployments/reconcile.py
# finishing_with), where a reconcile task of its own took 19 more.
MAX_DEPLOY_QUERIES = 82
MAX_RECONCILE_QUERIES = 19


# The sink's periodic statements (the poll's SELECT, the heartbeat's UPDATE).
PERIODIC = ('"cancel_requested_at" FROM',
            'UPDATE "deployments_deployment" SET "heartbeat_at" =')


def _counted(statements: list[str]) -> list[str]:
    return [sql for sql in statements if not any(mark in sql for mark in PERIODIC)]


def _deploy(stage, version: str):
    deployment = stage.deploy(stage.release(version))
    run_deployment(deployment.pk)
    deployment.refresh_from_db()
    assert deployment.status == Status.SUCCEEDED, deployment.error
    return deployment


def test_a_plain_deploy_stays_within_its_query_budget(stage):
    _deploy(stage, "1.0.0")  # the first clone of the repository, not counted
    deployment = stage.deploy(stage.release("2.0.0"))
    with all_queries() as statements:
        run_deployment(deployment.pk)
    deployment.refresh_from_db()
    assert deployment.status == Status.SUCCEEDED, deployment.error
    counted = _counted(statements)
    assert len(counted) <= MAX_DEPLOY_QUERIES, "\n".join(counted)


def test_the_reconcile_after_a_deploy_stays_within_its_query_budget(stage):
    _deploy(stage, "1.0.0")
    with all_queries() as statements:
        reconcile_site(stage.site.pk)
    assert len(statements) <= MAX_RECONCILE_QUERIES, "\n".join(statements)
