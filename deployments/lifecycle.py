"""The worker side of a deployment's life: enqueue, claim, finish, and the watchdog.

The row is the truth and the database is the lock: a deployment becomes `running` only
through the conditional UPDATE in `deployment_claim`, which the partial unique constraint
`one_running_deployment_per_site` backs up. Celery may deliver a task twice, late, or
never; every function here is safe under all three.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from deployments import selectors
from deployments.events import send_status_sync
from deployments.models import Deployment, DeploymentStep, Kind, LogLine, Status
from deployments.pipeline.steps import TOFU_NOTE
from sites.models import Site
from tenancy.audit import Actor, audit_record

logger = logging.getLogger(__name__)

# Called with a deployment id after every committed status change (running, finished,
# cancelled while queued). Other apps register here (notifications does, in its ready());
# deployments imports none of them. A failing hook is logged, never propagated.
DEPLOYMENT_STATUS_HOOKS: list[Callable[[int], object]] = []

# A queued deployment whose site is free but which has not started after this long lost
# its task message (broker restart, worker killed before ack): the watchdog sends another.
REQUEUE_AFTER_SECONDS = 30
# How the watchdog's verdict begins (the reconcile that fences the servers looks for it).
WORKER_LOST = "worker lost"
# One the broker never got (enqueued_at NULL) is sent again at once, past this grace for a
# request whose own after-commit send is still under way.
UNSENT_GRACE_SECONDS = 2


def status_changed(deployment) -> None:
    """Announce a committed status change: live broadcast, then every registered hook."""
    send_status_sync(deployment)
    for hook in DEPLOYMENT_STATUS_HOOKS:
        try:
            hook(deployment.pk)
        except Exception:
            logger.exception("deployment %s: status hook %r failed", deployment.pk, hook)


def enqueue(deployment_id: int) -> bool:
    """Send run_deployment(id) to the broker; True once the broker has it. Call after commit.

    `enqueued_at` records a send that succeeded, never an attempt. A send that fails (Redis
    down or restarting) is logged and leaves it NULL: the watchdog's next tick sends the row
    again (_requeue_stranded), so a trigger made during an outage runs soon after it ends.
    """
    from deployments.tasks import run_deployment  # the task module imports this one

    try:
        run_deployment.delay(deployment_id)
    except KombuOperationalError as exc:
        logger.warning(
            "deployment %s: not sent to the broker (%s); the watchdog sends it again",
            deployment_id, exc,
        )
        Deployment.objects.filter(pk=deployment_id).update(enqueued_at=None)
        return False
    Deployment.objects.filter(pk=deployment_id).update(enqueued_at=timezone.now())
    return True


def enqueue_next(site_id: int) -> int | None:
    """Enqueue the oldest queued deployment of the site, if any; return its id."""
    next_id = (
        Deployment.objects.filter(site_id=site_id, status=Status.QUEUED)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    if next_id is not None:
        enqueue(next_id)
    return next_id


def deployment_claim(deployment_id: int) -> Deployment | None:
    """Move the deployment from queued to running, or return None when it is not its turn.

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
    status_changed(deployment)
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
    Site.objects.filter(pk=site_id).update(deploy_epoch=F("deploy_epoch") + 1)
    return Site.objects.filter(pk=site_id).values_list("deploy_epoch", flat=True).get()


def deployment_finish(
    *, deployment_id: int, status: str, failed_step: str = "", error: str = "", commit: str = ""
) -> Deployment | None:
    """Record the pipeline's outcome, then start the next queued deployment of the site.

    Only a running row is finished: if the watchdog already declared the worker lost,
    its verdict stands. Audited (as the system).
    """
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
        transaction.on_commit(lambda: _announce_and_continue(row), robust=True)
    return row


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


def _announce_and_continue(row: Deployment) -> None:
    status_changed(row)
    enqueue_next(row.site_id)


def watchdog(now: datetime | None = None) -> dict[str, list[int]]:
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
    failed = [pk for pk in lost if _fail_lost(pk, cutoff)]
    return {"failed": failed, "requeued": _requeue_stranded(now)}


def _fail_lost(deployment_id: int, cutoff: datetime) -> bool:
    # Re-check the heartbeat under the row lock: the worker may have just come back.
    with transaction.atomic():
        alive = (
            Deployment.objects.select_for_update()
            .filter(pk=deployment_id, status=Status.RUNNING, heartbeat_at__lt=cutoff)
            .exists()
        )
        if not alive:
            return False
        seconds = settings.DEPLOY_WATCHDOG_SECONDS
        current = DeploymentStep.objects.filter(deployment_id=deployment_id, status="running")
        step = current.order_by("-order").values_list("name", flat=True).first() or ""
        # Take the site away from the silent worker: its epoch is no longer the site's, so
        # its executor stops before its next step and the servers' locks refuse it.
        site_id = Deployment.objects.values_list("site_id", flat=True).get(pk=deployment_id)
        _next_epoch(site_id)
    logger.warning("deployment %s: worker lost, marking it failed", deployment_id)
    return deployment_finish(
        deployment_id=deployment_id, status=Status.FAILED, failed_step=step,
        error=f"{WORKER_LOST} (no heartbeat for {seconds} s)",
    ) is not None


def _requeue_stranded(now: datetime) -> list[int]:
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
    return [deployment_id for deployment_id in stranded if enqueue(deployment_id)]
