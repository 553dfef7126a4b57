"""The sink's statements that run once or twice a step, as SQL written once.

Building them through the ORM (a filter, an Exists over a join, F()) compiled the query again
for every step: about a third of the worker's database CPU for a deploy
(docs/benchmarks.md, "Worker cost per deployment"). The table and column names come from the
models, so a rename cannot leave them behind; the values go through the connection's own
adapters, the same on PostgreSQL and SQLite. Each function is one attempt; deployments/sink.py
runs it under its DatabaseRetry.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from django.db import connection

from deployments.models import Deployment, DeploymentStep, Status
from sites.models import Site


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model, field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


def _when(value: datetime | None):
    return connection.ops.adapt_datetimefield_value(value)


@cache
def _close_sql(vendor: str) -> tuple[str, str]:
    """(close the step if the deployment holds its lease, close it regardless)."""
    step, deployment, site = DeploymentStep, Deployment, Site
    assignments = ", ".join(
        f"{_column(step, name)} = %s" for name in ("status", "finished_at", "exit_code", "error")
    )
    update = f"UPDATE {_table(step)} SET {assignments} WHERE {_column(step, 'id')} = %s"  # noqa: S608
    held = (
        f"SELECT 1 FROM {_table(deployment)} d INNER JOIN {_table(site)} s"  # noqa: S608
        f" ON s.{_column(site, 'id')} = d.{_column(deployment, 'site')}"
        f" WHERE d.{_column(deployment, 'id')} = %s AND d.{_column(deployment, 'status')} = %s"
        f" AND d.{_column(deployment, 'epoch')} = s.{_column(site, 'deploy_epoch')}"
    )
    return f"{update} AND EXISTS ({held})", update


def close_step(deployment_id: int, pk: int, *, status: str, finished_at: datetime,
               exit_code: int | None, error: str) -> bool:
    """Close step row `pk`; True when the deployment still held its lease (running, epoch
    equal to the site's) in the same statement. A lost lease still records the step's end
    (a second UPDATE): the row says what the cut-off worker saw."""
    if_held, regardless = _close_sql(connection.vendor)
    values = [status, _when(finished_at), exit_code, error, pk]
    with connection.cursor() as cursor:
        cursor.execute(if_held, [*values, deployment_id, Status.RUNNING])
        if cursor.rowcount:
            return True
        cursor.execute(regardless, values)
    return False


@cache
def _beat_sql(vendor: str) -> str:
    d = Deployment
    return (f"UPDATE {_table(d)} SET {_column(d, 'heartbeat_at')} = %s"  # noqa: S608
            f" WHERE {_column(d, 'id')} = %s AND {_column(d, 'status')} = %s")


def beat(deployment_id: int, now: datetime) -> None:
    """Say the worker running `deployment_id` is alive at `now` (while it runs)."""
    with connection.cursor() as cursor:
        cursor.execute(_beat_sql(connection.vendor), [_when(now), deployment_id, Status.RUNNING])


@cache
def _stop_sql(vendor: str) -> str:
    d = Deployment
    return (f"SELECT {_column(d, 'status')}, {_column(d, 'cancel_requested_at')}"  # noqa: S608
            f" FROM {_table(d)} WHERE {_column(d, 'id')} = %s")


def should_stop(deployment_id: int) -> bool:
    """True once someone asked to cancel, or the row is no longer running (watchdog)."""
    with connection.cursor() as cursor:
        cursor.execute(_stop_sql(connection.vendor), [deployment_id])
        row = cursor.fetchone()
    if row is None:
        raise Deployment.DoesNotExist(deployment_id)
    status, cancel_requested_at = row
    return cancel_requested_at is not None or status != Status.RUNNING


STEP_FIELDS = ("deployment", "order", "name", "server", "status", "started_at", "finished_at",
               "exit_code", "error")


@cache
def _insert_sql(vendor: str) -> str:
    step = DeploymentStep
    columns = ", ".join(_column(step, name) for name in STEP_FIELDS)
    marks = ", ".join(["%s"] * len(STEP_FIELDS))
    return (f"INSERT INTO {_table(step)} ({columns}) VALUES ({marks})"  # noqa: S608
            f" RETURNING {_column(step, 'id')}")


def insert_step(deployment_id: int, order: int, *, name: str, server: str, status: str,
                started_at: datetime, finished_at: datetime | None = None,
                exit_code: int | None = None, error: str = "") -> int:
    """Create step number `order` of the deployment; its id."""
    values = [deployment_id, order, name, server, status, _when(started_at), _when(finished_at),
              exit_code, error]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor), values)
        return cursor.fetchone()[0]
