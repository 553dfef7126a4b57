"""The deployment's state machine: queued -> running -> succeeded | failed | cancelled | timed_out,
or queued -> cancelled (`deployment_cancel_queued`, which deployments.services.deployment_cancel
calls). Before `queued`, a deployment may wait at a gate (awaiting_approval, held: their moves
are made by deployments/gates.py through `check_transition`). Nothing here sends a Celery task.

Each transition checks that it is allowed (TRANSITIONS), writes the row and its audit event in
one transaction and, once that committed, announces it: the live broadcast, then the
`deployment_status_changed` signal (deployments/signals.py) that other apps listen to. Starting
the next deployment of a site is the worker's job (deployments/worker.py), which is handed the
means to send it.

The row is the truth and the database is the lock: a deployment becomes `running` only
through the conditional UPDATE in `deployment_claim`, which the partial unique constraint
`one_running_deployment_per_site` backs up. Celery may deliver a task twice, late, or
never; every function here is safe under all three.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from deployments import selectors
from deployments.events import send_status_sync
from deployments.models import WAITING, Deployment, DeploymentStep, Kind, LogLine, Status
from deployments.pipeline.steps import TOFU_NOTE
from deployments.signals import deployment_status_changed
from sites.models import Site
from tenancy.audit import Actor, audit_record

logger = logging.getLogger(__name__)

# Where each status may go. A finished deployment goes nowhere.
TRANSITIONS: dict[str, frozenset[str]] = {
    # The gates (deployments/gates.py): approved, rejected, expired; a freeze held it, it ended.
    Status.AWAITING_APPROVAL: frozenset(
        {Status.QUEUED, Status.HELD, Status.REJECTED, Status.EXPIRED, Status.CANCELLED}),
    Status.HELD: frozenset({Status.QUEUED, Status.CANCELLED}),
    Status.QUEUED: frozenset({Status.RUNNING, Status.CANCELLED}),
    # Skipped: the commit was already live on every server and the deploy was not forced.
    Status.RUNNING: frozenset(
        {Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.TIMED_OUT, Status.SKIPPED}),
}
# How the watchdog's verdict begins (the reconcile that fences the servers looks for it).
WORKER_LOST = "worker lost"


class InvalidTransition(ValueError):
    """A status change the state machine does not have (a bug in the caller)."""


def check_transition(current: str, new: str) -> None:
    """Raise InvalidTransition unless a `current` deployment may become `new`."""
    if new not in TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(f"a {current} deployment cannot become {new}")


def announce(deployment: Deployment) -> None:
    """Announce a committed status change: live broadcast, then the status signal."""
    send_status_sync(deployment)
    deployment_status_changed.send_robust(
        sender=Deployment, deployment_id=deployment.pk, status=deployment.status
    )


def deployment_claim(deployment_id: int) -> Deployment | None:
    """queued -> running, or None when it is not this deployment's turn.

    Not its turn: already claimed (a redelivered task), cancelled, another deployment of
    the site is running, or an older one of the site is still queued (FIFO).
    """
    now = timezone.now()
    running = Deployment.objects.filter(site=OuterRef("site"), status=Status.RUNNING)
    older = Deployment.objects.filter(
        site=OuterRef("site"), status=Status.QUEUED, id__lt=OuterRef("id")
    )
    try:
        with transaction.atomic():
            claimed = (
                Deployment.objects.filter(pk=deployment_id, status=Status.QUEUED)
                .filter(~Exists(running), ~Exists(older))
                .update(status=Status.RUNNING, started_at=now, heartbeat_at=now)
            )
            if claimed != 1:
                return None
            deployment = Deployment.objects.select_related("site__organization").get(
                pk=deployment_id
            )
            deployment.epoch = _next_epoch(deployment.site_id)
            _assign_releases(deployment, now)
    except IntegrityError:
        # The constraint saw a concurrent claim for the same site commit first.
        return None
    announce(deployment)
    return deployment


def _assign_releases(deployment: Deployment, now: datetime) -> None:
    """Name the new release (UTC, one second later if taken) and remember the live one."""
    live = selectors.deployment_live(site=deployment.site)
    deployment.previous_release = live.release if live is not None else ""
    if deployment.kind == Kind.DEPLOY:
        stamp = now
        taken = Deployment.objects.filter(site=deployment.site, kind=Kind.DEPLOY)
        while taken.filter(release=stamp.strftime("%Y%m%d%H%M%S")).exists():
            stamp += timedelta(seconds=1)
        deployment.release = stamp.strftime("%Y%m%d%H%M%S")
    deployment.save(update_fields=["release", "previous_release", "epoch"])


def _next_epoch(site_id: int) -> int:
    """A new, higher fencing token for the site (deployments.pipeline.lock).

    Every lease gets one: a claimed deployment, or the watchdog taking a lost one away, so a
    worker that wakes up holding an older epoch is refused by the servers' locks.
    """
    # One statement (UPDATE … RETURNING: PostgreSQL, SQLite 3.35+), where the ORM takes two.
    table, column = (connection.ops.quote_name(name) for name in (Site._meta.db_table,
                                                                  "deploy_epoch"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = {column} + 1 WHERE id = %s RETURNING {column}",  # noqa: S608
            [site_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise Site.DoesNotExist(f"site {site_id}")
    return row[0]


def deployment_cancel_queued(row: Deployment) -> None:
    """queued (or waiting at a gate) -> cancelled: a deployment that never ran stops at once.

    Runs inside the caller's transaction, with `row` locked (select_for_update) so a claim
    cannot slip in between; the caller audits who cancelled it. Announced after commit.
    """
    if row.status not in WAITING:  # a running one is asked to stop, by the service
        raise InvalidTransition(f"a {row.status} deployment is not cancelled at once")
    check_transition(row.status, Status.CANCELLED)
    row.status, row.finished_at = Status.CANCELLED, timezone.now()
    row.save(update_fields=["status", "finished_at"])
    transaction.on_commit(lambda: announce(row), robust=True)


def deployment_finish(
    *, deployment_id: int, status: str, failed_step: str = "", error: str = "", commit: str = ""
) -> Deployment | None:
    """running -> `status` (a finished one): record the pipeline's outcome.

    Only a running row is finished (None otherwise): if the watchdog already declared the
    worker lost, its verdict stands. Audited (as the system); announced after commit. The
    caller starts the site's next deployment (deployments/worker.py).
    """
    check_transition(Status.RUNNING, status)
    with transaction.atomic():
        row = Deployment.objects.select_for_update().select_related("site__organization").get(
            pk=deployment_id
        )
        if row.status != Status.RUNNING:
            return None
        row.status, row.finished_at = status, timezone.now()
        row.failed_step, row.error = failed_step[:100], error
        row.commit_sha = commit or row.commit_sha
        row.save(update_fields=["status", "finished_at", "failed_step", "error", "commit_sha"])
        _close_open_steps(row)
        if status == Status.SUCCEEDED:
            _pin_repository_host_key(row)
        audit_record(
            actor=Actor.system(), organization=row.site.organization,
            verb=f"deployment.{status}", target=row,
            after={"release": row.release, "commit": row.commit_sha, "failed_step": failed_step},
        )
        transaction.on_commit(lambda: announce(row), robust=True)
    return row


def deployment_refuse(*, deployment_id: int, reason: str) -> Deployment | None:
    """running -> cancelled for a claimed deployment whose requester may no longer deploy
    (deployments/authority.py), before anything ran. Audited with the reason."""
    with transaction.atomic():
        row = deployment_finish(deployment_id=deployment_id, status=Status.CANCELLED,
                                error=reason)
        if row is not None:
            audit_record(actor=Actor.system(), organization=row.site.organization,
                         verb="deployment.unauthorized", target=row, after={"reason": reason})
    return row


def deployment_fail_lost(deployment_id: int, cutoff: datetime) -> Deployment | None:
    """running -> failed for a deployment whose heartbeat stopped before `cutoff`.

    Re-checked under the row lock (the worker may have just come back: None). The site's
    epoch is raised first, so the silent worker's executor stops before its next step and
    the servers' locks refuse it.
    """
    with transaction.atomic():
        alive = (
            Deployment.objects.select_for_update()
            .filter(pk=deployment_id, status=Status.RUNNING, heartbeat_at__lt=cutoff)
            .exists()
        )
        if not alive:
            return None
        current = DeploymentStep.objects.filter(deployment_id=deployment_id, status="running")
        step = current.order_by("-order").values_list("name", flat=True).first() or ""
        site_id = Deployment.objects.values_list("site_id", flat=True).get(pk=deployment_id)
        _next_epoch(site_id)
    logger.warning("deployment %s: worker lost, marking it failed", deployment_id)
    return deployment_finish(
        deployment_id=deployment_id, status=Status.FAILED, failed_step=step,
        error=f"{WORKER_LOST} (no heartbeat for {settings.DEPLOY_WATCHDOG_SECONDS} s)",
    )


def _pin_repository_host_key(row: Deployment) -> None:
    """Trust on first use, completed: a site without a pinned git host key keeps the key its
    first successful deploy saw, so a later, different key is refused. Audited."""
    site = row.site
    if site.repository_host_keys.strip():
        return
    note = LogLine.objects.filter(deployment=row, stream="info", text__startswith=TOFU_NOTE)
    seen = note.values_list("text", flat=True).first()
    if not seen:
        return
    site.repository_host_keys = seen.removeprefix(TOFU_NOTE).strip()
    site.save(update_fields=["repository_host_keys"])
    audit_record(actor=Actor.system(), organization=site.organization,
                 verb="site.repository_host_key_pinned", target=site,
                 after={"repository_host_keys": site.repository_host_keys})


def _close_open_steps(row: Deployment) -> None:
    """Steps still `running` when the deployment ended did not finish: give them its fate."""
    fate = row.status if row.status in (Status.CANCELLED, Status.TIMED_OUT) else Status.FAILED
    DeploymentStep.objects.filter(deployment=row, status="running").update(
        status=fate, finished_at=row.finished_at
    )
