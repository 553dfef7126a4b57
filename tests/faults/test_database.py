"""PostgreSQL restarted mid-deploy: the deployment still succeeds, with every log line once.

How the test reaches a database it may restart. pytest-django's test database lives on the
shared server (127.0.0.1:5432), which no test may stop. So `test_a_deploy_survives_...` starts a
private cluster (testbed/postgres.py: initdb + pg_ctl, a free port, a fresh directory) and runs
the drill below in a child pytest session whose DATABASE_URL names that cluster. In the child,
everything is on the private cluster without any override: pytest-django creates its test
database there, the fixtures write the cast, site and server there, and the Celery worker
follows (tests/deployments/workers.py hands it the test connection's URL). The drill is
skipped in every other session: it needs the cluster's address, which only the parent gives.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test import override_settings

from deployments.models import Deployment, LogLine, Status
from deployments.tasks import watchdog
from testbed.postgres import PostgresCluster
from tests.deployments.workers import Worker, purge_queues
from tests.fixtures.stage import finished, make_stage, wait_until

CLUSTER_ENV = "DEPLOYNIX_TEST_PG_CLUSTER"  # "<base dir>:<port>" of the cluster to restart
NUMBERED = 400
# ~10 s of output at ~40 lines/s: the restart falls in the middle of it.
NUMBERED_SCRIPT = f"for i in $(seq 1 {NUMBERED}); do echo line-$i; sleep 0.02; done"
RESTART_AT = "line-100"
DOWN_FOR = 1.0  # plus the stop and the start: the server is away for ~1.5-2 s
# Far below the default 90 s: a heartbeat that does not resume soon after the restart shows.
WATCHDOG_SECONDS = 10
MAX_OUTAGE_LOG_LINES = 6


@pytest.mark.ssh
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.timeout(660)
def test_a_deploy_survives_a_postgresql_restart_with_every_log_line(tmp_path: Path):
    cluster = PostgresCluster.create()
    try:
        child = subprocess.run(
            [sys.executable, "-m", "pytest", f"{__file__}::test_drill_restart_mid_deploy",
             "-x", "-q", f"--basetemp={tmp_path / 'child'}"],
            cwd=settings.BASE_DIR, env=_child_env(cluster), capture_output=True, text=True,
            timeout=600,
        )
    finally:
        cluster.destroy()
    report = child.stdout[-8000:] + child.stderr[-2000:]
    assert child.returncode == 0, report
    assert "1 passed" in child.stdout, report


def _child_env(cluster: PostgresCluster) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = cluster.url()
    env[CLUSTER_ENV] = cluster.env_value()
    # Own queues: the child's worker must not take tasks of this session's other tests.
    env["DEPLOYNIX_REDIS_PREFIX"] = f"{settings.REDIS_PREFIX}-pgdrill"
    return env


@pytest.mark.skipif(CLUSTER_ENV not in os.environ, reason="run by the test above, in its session")
@pytest.mark.django_db(transaction=True)
def test_drill_restart_mid_deploy(cast, sshd_host, tmp_path: Path):
    cluster = PostgresCluster.from_env(os.environ[CLUSTER_ENV])
    purge_queues()
    worker = Worker.start("pgdrill", tmp_path, concurrency=2)
    try:
        stage = make_stage(cast, sshd_host, tmp_path, deploy_script=NUMBERED_SCRIPT)
        deployment = stage.deploy(stage.release("1.0.0"))
        wait_until(lambda: _stored(deployment, RESTART_AT), what=f"{RESTART_AT} to be stored")
        log_offset = worker.log.stat().st_size
        cluster.restart(down_for=DOWN_FOR)
        connections.close_all()  # this process's connection ended with the server, too
        assert not _stored(deployment, f"line-{NUMBERED}"), "the restart came too late"

        done = _finished_under_watchdog(deployment)
        outage_log = worker.log.read_bytes()[log_offset:].decode(errors="replace")

        assert done.status == Status.SUCCEEDED, f"{done.status}: {done.error}\n{outage_log}"
        _assert_every_line_once(done)
        _assert_one_line_per_outage(outage_log)
        [after] = finished(stage.deploy(stage.release("2.0.0")))
        assert after.status == Status.SUCCEEDED, after.error
    finally:
        worker.stop()


def _stored(deployment: Deployment, text: str) -> bool:
    return LogLine.objects.filter(deployment=deployment, text=text).exists()


def _finished_under_watchdog(deployment: Deployment) -> Deployment:
    """Wait for the end, running a short watchdog meanwhile: a stalled heartbeat fails the row
    as "worker lost"."""

    def ended():
        with override_settings(DEPLOY_WATCHDOG_SECONDS=WATCHDOG_SECONDS):
            watchdog()
        row = Deployment.objects.get(pk=deployment.pk)
        return row if row.is_finished else None

    return wait_until(ended, timeout=180, what="the deployment to finish")


def _assert_every_line_once(deployment: Deployment) -> None:
    rows = list(LogLine.objects.filter(deployment=deployment).order_by("seq")
                .values_list("seq", "text"))
    assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1)), "seq has gaps"
    numbered = [text for _, text in rows if text.startswith("line-")]
    assert numbered == [f"line-{n}" for n in range(1, NUMBERED + 1)]


def _assert_one_line_per_outage(log: str) -> None:
    """The worker noticed the outage (so the fault hit it) and said so briefly: no flood."""
    about_it = [line for line in log.splitlines() if "database" in line.lower()]
    assert any("connection lost" in line for line in about_it), log[-3000:]
    assert len(about_it) <= MAX_OUTAGE_LOG_LINES, "\n".join(about_it[:20])
    assert "Traceback" not in log, log[-3000:]
