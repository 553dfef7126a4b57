"""Run one claimed deployment: build its context, run the async pipeline with a sink, return.

Each Celery task thread runs its own event loop (`asyncio.run`), so dozens of deployments
share one worker process (`--pool threads`). Inside the loop, Django's async ORM calls go
through a ThreadSensitiveContext: one database thread (and connection) per deployment,
instead of asgiref's single process-wide thread that every deployment would queue behind.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.db import connections

from deployments.context_builder import build_context, context_secrets
from deployments.dbretry import DatabaseRetry
from deployments.models import Deployment, Kind
from deployments.pipeline.context import DeployContext, PipelineResult
from deployments.sink import DeploymentSink

logger = logging.getLogger(__name__)


def execute(deployment: Deployment) -> PipelineResult:
    """Run the deploy or rollback of a claimed (running) deployment; never raises."""
    try:
        # A database blink while reading the site must not fail the deploy at "prepare".
        ctx = DatabaseRetry(f"deployment {deployment.pk}: context").run(
            build_context, deployment
        )
    except Exception as exc:
        logger.exception("deployment %s: cannot build its context", deployment.pk)
        try:
            secrets = context_secrets(deployment.site)
            error = DeploymentSink(deployment_id=deployment.pk, secrets=secrets).redact(str(exc))
        except Exception:
            error = "the site's settings cannot be read (see the worker log)"
        return PipelineResult(status="failed", failed_step="prepare", error=error)
    return asyncio.run(run_with_sink(ctx))


async def run_with_sink(ctx: DeployContext) -> PipelineResult:
    """The pipeline for `ctx` with a DeploymentSink and its own database thread (what the
    worker runs; `make bench` measures the live log through it too)."""
    async with ThreadSensitiveContext():
        sink = DeploymentSink(deployment_id=ctx.deployment_id, secrets=ctx.secrets)
        cancel = asyncio.Event()
        await sink.start(cancel)
        try:
            result = await _pipeline(ctx, sink, cancel)
        finally:
            await sink.close()
            # This context's database thread ends here; do not leave its connection open.
            await sync_to_async(connections.close_all)()
    return dataclasses.replace(result, error=sink.redact(result.error))


async def _pipeline(ctx: DeployContext, sink: DeploymentSink, cancel: asyncio.Event):
    from deployments.pipeline import run_deploy, run_rollback

    runner = run_rollback if ctx.kind == Kind.ROLLBACK else run_deploy
    try:
        return await runner(ctx, sink, cancel)
    except Exception as exc:
        # The runner should report failures as results; anything else is our bug, but the
        # deployment must still end (failed) and free its site.
        logger.exception("deployment %s: the pipeline raised", ctx.deployment_id)
        return PipelineResult(status="failed", error=f"internal error: {exc}")
