"""Celery tasks of the deployments app. Thin on purpose: the logic lives in lifecycle/execution."""

from __future__ import annotations

from celery import shared_task

from deployments import lifecycle
from deployments.execution import execute
from deployments.pipeline.context import PipelineResult


@shared_task(name="deployments.tasks.run_deployment", acks_late=True, ignore_result=True)
def run_deployment(deployment_id: int) -> None:
    """Claim the deployment, run its pipeline, record the outcome, start the next one.

    A redelivered or premature task finds the row not claimable and does nothing.
    """
    deployment = lifecycle.deployment_claim(deployment_id)
    if deployment is None:
        return
    try:
        result = execute(deployment)
    except Exception as exc:
        # Our own bug or a lost database: still end the deployment now (the watchdog
        # would, but only after DEPLOY_WATCHDOG_SECONDS) so the site's queue moves on.
        result = PipelineResult(status="failed", error=f"internal error: {exc}")
    lifecycle.deployment_finish(
        deployment_id=deployment_id, status=result.status, failed_step=result.failed_step,
        error=result.error, commit=result.commit,
    )


@shared_task(name="deployments.tasks.watchdog", ignore_result=True)
def watchdog() -> dict[str, list[int]]:
    """Fail deployments whose worker died; re-send queued ones whose task was lost."""
    return lifecycle.watchdog()
