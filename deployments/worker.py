"""The worker's side of a deployment, in the order it happens: claim, build the context, run the
pipeline with its sink, finish, start the site's next deployment; and the watchdog, which stands
in for a worker that died.

The task module (deployments/tasks.py) calls these and hands them `send`, the function that
puts a deployment on the broker (True once the broker has it); nothing here imports the tasks.
The status changes themselves are the state machine's (deployments/lifecycle.py).

Each Celery task thread runs its own event loop (`asyncio.run`), so dozens of deployments
share one worker process (`--pool threads`). Inside the loop, Django's async ORM calls go
through a ThreadSensitiveContext: one database thread (and connection) per deployment,
instead of asgiref's single process-wide thread that every deployment would queue behind.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from deployments import lifecycle
from deployments.authority import requester_refusal
from deployments.baseline import deployment_record_baseline
from deployments.context_builder import build_context, context_secrets
from deployments.dbretry import DatabaseRetry
from deployments.models import Deployment, Kind, Status
from deployments.pipeline import run_deploy, run_rollback
from deployments.pipeline.context import FULL_SHA, DeployContext, MirrorConnection, PipelineResult
from deployments.provisioning import run_provisioning
from deployments.reconcile import finishing_with
from deployments.release_diff import (
    DIFF_TIMEOUT_SECONDS,
    keep_release_diff,
    read_diff_over,
    release_diff,
    release_diff_cached,
)
from deployments.sink import DeploymentSink
from sites.models import Site

logger = logging.getLogger(__name__)

# Sends run_deployment(id) to the broker; True once the broker has it (deployments.tasks.enqueue).
Send = Callable[[int], bool]

# A queued deployment whose site is free but which has not started after this long lost
# its task message (broker restart, worker killed before ack): the watchdog sends another.
REQUEUE_AFTER_SECONDS = 30
# One the broker never got (enqueued_at NULL) is sent again at once, past this grace for a
# request whose own after-commit send is still under way.
UNSENT_GRACE_SECONDS = 2


def run_deployment(deployment_id: int, *, send: Send) -> None:
    """Claim the deployment, check its requester may still deploy, run its pipeline, record
    the outcome, start the next one.

    A redelivered or premature task finds the row not claimable and does nothing. The
    database writes here outlive a lost connection (deployments/dbretry.py), so a pipeline
    that finished is recorded even when the database blinked at that moment.
    """
    db = DatabaseRetry(f"deployment {deployment_id}: task")
    deployment = db.run(lifecycle.deployment_claim, deployment_id)
    if deployment is None:
        return
    # Re-authorized now, not only when it was queued: nothing has touched a server yet.
    refusal = db.run(requester_refusal, deployment)
    if refusal:
        db.run(lifecycle.deployment_refuse, deployment_id=deployment.pk, reason=refusal)
        db.run(start_next, deployment.site_id, send)
        return
    # What is live now: the release diff starts here, and a deploy of it is skipped.
    try:
        deployment = db.run(deployment_record_baseline, deployment)
    except Exception:
        # Not needed to deploy (no diff, no skip); the context build below reports a site
        # whose settings cannot be read.
        logger.exception("deployment %s: what is live could not be recorded", deployment.pk)
        # Maybe set in memory but not stored: the context build chooses and records it.
        deployment.env_version = None
    try:
        result = execute(deployment)
    except Exception as exc:
        # Our own bug or a lost database: still end the deployment now (the watchdog
        # would, but only after DEPLOY_WATCHDOG_SECONDS) so the site's queue moves on.
        result = PipelineResult(status="failed", error=f"internal error: {exc}")
    # This thread's connection idled through the whole pipeline; a database restart meanwhile
    # left it broken, and nothing closes it inside a task: start the finish on a fresh one.
    close_old_connections()
    note_release_diff(deployment, result)
    # The servers as the pipeline left them, read over its own connections: the reconcile
    # after the finish uses that instead of connecting again (deployments/tasks.py).
    with finishing_with(dict(result.observed) if result.status == Status.SUCCEEDED else None):
        finish(deployment, result, send=send, db=db)


def finish(
    deployment: Deployment, result: PipelineResult, *, send: Send, db: DatabaseRetry | None = None
) -> None:
    """Record `result` for the running `deployment`, then start the site's next deployment.

    The next one is started whether or not this finish recorded anything: when it did not,
    the watchdog ended the deployment, or our own finish committed but the answer was lost
    with the connection. A second task for the same row is a no-op.
    """
    db = db or DatabaseRetry(f"deployment {deployment.pk}: finish")
    db.run(
        lifecycle.deployment_finish, deployment_id=deployment.pk, status=result.status,
        failed_step=result.failed_step, error=result.error, commit=result.commit,
    )
    db.run(start_next, deployment.site_id, send)


def note_release_diff(deployment: Deployment, result: PipelineResult) -> None:
    """Read and keep the release diff of a deploy that went live, before its finish is
    announced (the notifications carry its summary). Best effort: a diff that cannot be read
    now is read when someone opens the deployment."""
    base, target = deployment.base_commit, result.commit
    if result.status != Status.SUCCEEDED or deployment.kind != Kind.DEPLOY or not base \
            or not target or base == target:
        return
    try:
        release_diff(site=deployment.site, base=base, target=target)
    except Exception as exc:
        logger.warning("deployment %s: release diff not read: %s", deployment.pk, exc)


def start_next(site_id: int, send: Send) -> int | None:
    """Send the oldest queued deployment of the site, if any; return its id."""
    next_id = (
        Deployment.objects.filter(site_id=site_id, status=Status.QUEUED)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    if next_id is not None:
        send(next_id)
    return next_id


def execute(deployment: Deployment) -> PipelineResult:
    """Run the deploy, rollback or provisioning of a claimed (running) deployment; never
    raises."""
    if deployment.kind == Kind.PROVISION:
        return run_provisioning(deployment)
    try:
        # A database blink while reading the site must not fail the deploy at "prepare".
        db = DatabaseRetry(f"deployment {deployment.pk}: context")
        recorded = deployment.env_version_id  # by the baseline, when it could be read
        ctx = db.run(build_context, deployment)
        if deployment.env_version_id != recorded:
            db.run(_record_env_version, deployment)
    except Exception as exc:
        logger.exception("deployment %s: cannot build its context", deployment.pk)
        return PipelineResult(status="failed", failed_step="prepare",
                              error=_unreadable_settings(deployment, exc))
    return asyncio.run(run_with_sink(ctx, diff_ahead=_diff_ahead(deployment)))


def _record_env_version(deployment: Deployment) -> None:
    """Keep which environment version the deployment ships (set by build_context)."""
    Deployment.objects.filter(pk=deployment.pk).update(env_version=deployment.env_version)


def _unreadable_settings(deployment: Deployment, exc: Exception) -> str:
    """The error shown for a context that could not be built, without the site's secrets."""
    try:
        secrets = context_secrets(deployment.site)
        return DeploymentSink(deployment_id=deployment.pk, secrets=secrets).redact(str(exc))
    except Exception:
        return "the site's settings cannot be read (see the worker log)"


def _diff_ahead(deployment: Deployment) -> tuple[Site, str] | None:
    """(site, live commit) for a deploy whose release diff can be read while it runs."""
    if deployment.kind != Kind.DEPLOY or not FULL_SHA.match(deployment.base_commit or ""):
        return None
    return deployment.site, deployment.base_commit


class DiffAheadSink(DeploymentSink):
    """A deploy's sink that reads the release diff (note_release_diff) as soon as the
    pipeline resolved the commit, over the connection of the server that resolved it, while
    the remaining steps run: the finish then finds it kept instead of opening an SSH
    connection of its own while the user waits for "Succeeded" (docs/benchmarks.md, "The
    Deploy button"). A connection of its own, beside the pipeline's, cost a second
    handshake on both ends during the fetch."""

    def __init__(self, *, site: Site, base: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.site, self.base = site, base
        self.diff_read: asyncio.Task | None = None

    async def commit_resolved(
        self, sha: str, message: str, author: str, mirror: MirrorConnection | None = None
    ) -> None:
        await super().commit_resolved(sha, message, author, mirror)
        if self.diff_read is None and sha != self.base and mirror is not None:
            self.diff_read = asyncio.create_task(self._read_diff(mirror, sha))

    async def _read_diff(self, mirror: MirrorConnection, target: str) -> None:
        """Best effort: the finish tries again (from every server) when this could not."""
        site, base = self.site, self.base
        try:
            if await sync_to_async(release_diff_cached)(site=site, base=base, target=target):
                return
            async with asyncio.timeout(DIFF_TIMEOUT_SECONDS):
                data = await read_diff_over(await mirror(), site.deploy_path, base, target)
            await sync_to_async(keep_release_diff)(site=site, base=base, target=target,
                                                   data=data)
        except Exception as exc:
            logger.info("release diff %s..%s not read ahead: %s", base[:12], target[:12], exc)

    async def close(self) -> None:
        await super().close()
        if self.diff_read is not None:
            await asyncio.gather(self.diff_read, return_exceptions=True)


async def run_with_sink(
    ctx: DeployContext, *, diff_ahead: tuple[Site, str] | None = None
) -> PipelineResult:
    """The pipeline for `ctx` with a DeploymentSink and its own database thread (what the
    worker runs; `make bench` measures the live log through it too). `diff_ahead`: the
    deploy's (site, live commit), to read its release diff alongside (DiffAheadSink)."""
    async with ThreadSensitiveContext():
        sink = (
            DiffAheadSink(site=diff_ahead[0], base=diff_ahead[1],
                          deployment_id=ctx.deployment_id, secrets=ctx.secrets)
            if diff_ahead else DeploymentSink(deployment_id=ctx.deployment_id, secrets=ctx.secrets)
        )
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
    runner = run_rollback if ctx.kind == Kind.ROLLBACK else run_deploy
    try:
        return await runner(ctx, sink, cancel)
    except Exception as exc:
        # The runner should report failures as results; anything else is our bug, but the
        # deployment must still end (failed) and free its site.
        logger.exception("deployment %s: the pipeline raised", ctx.deployment_id)
        return PipelineResult(status="failed", error=f"internal error: {exc}")


def watchdog(*, send: Send, now: datetime | None = None) -> dict[str, list[int]]:
    """Fail running deployments whose heartbeat stopped, re-send lost queued ones.

    Runs periodically (deployments.celery_schedule). No site lock ever needs a human:
    after DEPLOY_WATCHDOG_SECONDS without a heartbeat the worker is presumed dead.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.DEPLOY_WATCHDOG_SECONDS)
    lost = list(
        Deployment.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff)
        .values_list("id", flat=True)
    )
    failed = [pk for pk in lost if _fail_lost(pk, cutoff, send)]
    return {"failed": failed, "requeued": _requeue_stranded(now, send)}


def _fail_lost(deployment_id: int, cutoff: datetime, send: Send) -> bool:
    row = lifecycle.deployment_fail_lost(deployment_id, cutoff)
    if row is None:
        return False
    start_next(row.site_id, send)
    return True


def _requeue_stranded(now: datetime, send: Send) -> list[int]:
    """Send again the oldest queued deployment of each free site whose task is not on its way.

    Never sent (the broker was down when it was requested or handed over): at once. Sent but
    not started REQUEUE_AFTER_SECONDS later: its message was lost. A duplicate is harmless,
    the claim runs it once. Returns the ids the broker accepted.
    """
    lost = now - timedelta(seconds=REQUEUE_AFTER_SECONDS)
    unsent = now - timedelta(seconds=UNSENT_GRACE_SECONDS)
    running = Deployment.objects.filter(site=OuterRef("site"), status=Status.RUNNING)
    older = Deployment.objects.filter(
        site=OuterRef("site"), status=Status.QUEUED, id__lt=OuterRef("id")
    )
    stranded = list(
        Deployment.objects.filter(status=Status.QUEUED)
        .filter(Q(enqueued_at__lt=lost) | Q(enqueued_at__isnull=True, created_at__lt=unsent))
        .filter(~Exists(running), ~Exists(older))
        .order_by("id")
        .values_list("id", flat=True)
    )
    return [deployment_id for deployment_id in stranded if send(deployment_id)]
