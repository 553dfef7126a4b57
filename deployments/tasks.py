"""Celery tasks of the deployments app. Thin on purpose: the logic lives in lifecycle/execution."""

from __future__ import annotations

from celery import shared_task
from django.db import close_old_connections

from deployments import lifecycle
from deployments.dbretry import DatabaseRetry
from deployments.execution import execute
from deployments.pipeline.context import PipelineResult


@shared_task(name="deployments.tasks.run_deployment", acks_late=True, ignore_result=True)
def run_deployment(deployment_id: int) -> None:
    """Claim the deployment, run its pipeline, record the outcome, start the next one.

    A redelivered or premature task finds the row not claimable and does nothing. The
    database writes here outlive a lost connection (deployments/dbretry.py), so a pipeline
    that finished is recorded even when the database blinked at that moment.
    """
    db = DatabaseRetry(f"deployment {deployment_id}: task")
    deployment = db.run(lifecycle.deployment_claim, deployment_id)
    if deployment is None:
        return
    try:
        result = execute(deployment)
    except Exception as exc:
        # Our own bug or a lost database: still end the deployment now (the watchdog
        # would, but only after DEPLOY_WATCHDOG_SECONDS) so the site's queue moves on.
        result = PipelineResult(status="failed", error=f"internal error: {exc}")
    # This thread's connection idled through the whole pipeline; a database restart meanwhile
    # left it broken, and nothing closes it inside a task: start the finish on a fresh one.
    close_old_connections()
    finished = db.run(
        lifecycle.deployment_finish, deployment_id=deployment_id, status=result.status,
        failed_step=result.failed_step, error=result.error, commit=result.commit,
    )
    if finished is None:
        # Not running any more: the watchdog ended it, or our own finish committed but the
        # answer was lost with the connection, and with it the hand-over to the next queued
        # deployment. Hand over again (a second task for the same row is a no-op).
        db.run(lifecycle.enqueue_next, deployment.site_id)


@shared_task(name="deployments.tasks.watchdog", ignore_result=True)
def watchdog() -> dict[str, list[int]]:
    """Fail deployments whose worker died; re-send queued ones whose task was lost."""
    return lifecycle.watchdog()
