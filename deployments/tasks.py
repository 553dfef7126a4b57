"""Celery tasks of the deployments app, and `enqueue`, the one place run_deployment is sent.

Thin on purpose: the worker path is deployments/worker.py, handed `enqueue` to start a
site's next deployment. The services announce a requested deployment with the
`deployment_queued` signal (deployments/signals.py) instead of importing this module;
`send_queued`, connected in DeploymentsConfig.ready(), sends it.

The reconcile task, and the status receiver that runs it after every finished deployment: a
deployment that ends failed, cancelled, timed out or lost (the watchdog) may have left a
server somewhere the panel does not expect; one that succeeded moved `current`. Either way
the servers are read again (deployments/reconcile.py) and the facts stored. Read-only.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from deployments import approvals, worker
from deployments.authority import REFUSED
from deployments.lifecycle import WORKER_LOST
from deployments.models import FINISHED, Deployment, Status
from deployments.reconcile import observed_at_finish, site_reconcile
from sites.models import Site
from tenancy.audit import Actor

logger = logging.getLogger(__name__)

# A reconcile is an SSH round trip per server and rides on "default" with the other work;
# "control" is for beat's watchdog and schedules (deploynix/settings.py). Except the one
# after the watchdog took a deployment away: it fences the servers off from the silent
# worker (reconcile._pending_fence), and the deploy worker that would read "default" may be
# that very worker, paused. The control worker is always there.
RECONCILE_QUEUE = "default"
FENCING_QUEUE = "control"


@shared_task(name="deployments.tasks.run_deployment", acks_late=True, ignore_result=True)
def run_deployment(deployment_id: int) -> None:
    """Claim, run, finish deployment `deployment_id` and start the next (worker.run_deployment)."""
    worker.run_deployment(deployment_id, send=enqueue)


@shared_task(name="deployments.tasks.watchdog", ignore_result=True)
def watchdog() -> dict[str, list[int]]:
    """Fail deployments whose worker died; re-send queued ones whose task was lost."""
    return worker.watchdog(send=enqueue)


@shared_task(name="deployments.tasks.gates_sweep", ignore_result=True)
def gates_sweep() -> dict[str, list[int]]:
    """Expire unanswered approvals, queue what a finished freeze held (deployments/approvals.py)."""
    return approvals.gates_sweep()


def enqueue(deployment_id: int) -> bool:
    """Send run_deployment(id) to the broker; True once the broker has it. Call after commit.

    `enqueued_at` records a send that succeeded, never an attempt. A send that fails (Redis
    down or restarting) is logged and leaves it NULL: the watchdog's next tick sends the row
    again (worker._requeue_stranded), so a trigger made during an outage runs soon after it ends.
    """
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


def send_queued(sender, *, deployment_id: int, **kwargs) -> None:
    """deployment_queued receiver: send the deployment to a worker."""
    enqueue(deployment_id)


@shared_task(name="deployments.tasks.reconcile_site", ignore_result=True)
def reconcile_site(site_id: int) -> None:
    """Observe every server of the site and store the truth (a deleted site: nothing)."""
    site = Site.objects.select_related("organization").filter(pk=site_id).first()
    if site is not None:
        site_reconcile(site=site, actor=Actor.system())


def reconcile_after_finish(
    sender, *, deployment_id: int, status: str | None = None, **kwargs
) -> None:
    """deployment_status_changed receiver: once a deployment that ran has ended, reconcile its
    site (connected in DeploymentsConfig.ready()).

    A deployment cancelled while still queued, or refused at its start because its requester
    may no longer deploy (deployments/authority.py), never touched a server: nothing to read.
    """
    if status is not None and status not in FINISHED:
        return
    row = (
        Deployment.objects.filter(pk=deployment_id)
        .values("site_id", "status", "started_at", "error")
        .first()
    )
    if row is None or row["status"] not in FINISHED or row["started_at"] is None:
        return
    if row["error"].startswith(REFUSED):
        return
    site_id = row["site_id"]
    observed = observed_at_finish()
    if observed and row["status"] == Status.SUCCEEDED:
        # The worker finishing it read every server at the deployment's end, over the
        # deployment's own connections: reconcile from that, here, without a task and
        # without connecting again (a server it could not read is asked as usual).
        transaction.on_commit(lambda: _reconcile_observed(site_id, observed), robust=True)
        return
    queue = FENCING_QUEUE if row["error"].startswith(WORKER_LOST) else RECONCILE_QUEUE
    transaction.on_commit(
        lambda: reconcile_site.apply_async((site_id,), queue=queue), robust=True
    )


def _reconcile_observed(site_id: int, observed: dict) -> None:
    site = Site.objects.select_related("organization").filter(pk=site_id).first()
    if site is not None:
        site_reconcile(site=site, actor=Actor.system(), observed=observed)
