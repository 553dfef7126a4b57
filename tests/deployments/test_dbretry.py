"""DatabaseRetry against real lost connections: another connection ends ours with
pg_terminate_backend, as a database restart would."""

from __future__ import annotations

import logging
import threading

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from deployments import lifecycle
from deployments.dbretry import DatabaseRetry
from deployments.models import Deployment, Status

pytestmark = pytest.mark.django_db(transaction=True)
# pg_terminate_backend ends a connection from outside, the way a PostgreSQL restart does.
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate_from_another_connection(pid: int) -> None:
    def terminate():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
        finally:
            connection.close()

    thread = threading.Thread(target=terminate)
    thread.start()
    thread.join(10)


def _outage_log(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "deployments.dbretry"]


@pytest.fixture
def running(site):
    return Deployment.objects.create(
        site=site, organization=site.organization, branch="main", status=Status.RUNNING,
        started_at=timezone.now(), heartbeat_at=timezone.now(),
    )


@postgres_only
def test_a_finish_is_recorded_after_its_connection_died(running, caplog):
    caplog.set_level(logging.WARNING, logger="deployments.dbretry")
    _terminate_from_another_connection(_backend_pid())
    row = DatabaseRetry("test").run(
        lifecycle.deployment_finish, deployment_id=running.pk, status=Status.SUCCEEDED
    )
    assert row is not None and Deployment.objects.get(pk=running.pk).status == Status.SUCCEEDED
    [lost, back] = _outage_log(caplog)
    assert "connection lost" in lost and "back after" in back


@postgres_only
def test_it_reconnects_for_a_write_outside_a_transaction(running):
    # No atomic() to drop the broken connection on its way out: the retry must close it.
    _terminate_from_another_connection(_backend_pid())
    beat = timezone.now()
    updated = DatabaseRetry("test", seconds=5).run(
        Deployment.objects.filter(pk=running.pk).update, heartbeat_at=beat
    )
    assert updated == 1 and Deployment.objects.get(pk=running.pk).heartbeat_at == beat


@postgres_only
def test_it_gives_up_when_the_connection_keeps_dying(caplog):
    caplog.set_level(logging.WARNING, logger="deployments.dbretry")
    attempts = []

    def doomed() -> int:
        attempts.append(1)
        _terminate_from_another_connection(_backend_pid())
        return _backend_pid()

    with pytest.raises(OperationalError):
        DatabaseRetry("test", seconds=0.5).run(doomed)
    assert len(attempts) > 1
    [lost, gave_up] = _outage_log(caplog)
    assert "connection lost" in lost and "giving up" in gave_up
