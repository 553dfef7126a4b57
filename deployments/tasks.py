"""Celery tasks of the deployments app, and `enqueue`, the one place run_deployment is sent.

Thin on purpose: the worker path is deployments/worker.py, handed `enqueue` to start a
site's next deployment. The services announce a requested deployment with the
`deployment_queued` signal (deployments/signals.py) instead of importing this module;
`send_queued`, connected in DeploymentsConfig.ready(), sends it.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from deployments import worker
from deployments.models import Deployment

logger = logging.getLogger(__name__)


@shared_task(name="deployments.tasks.run_deployment", acks_late=True, ignore_result=True)
def run_deployment(deployment_id: int) -> None:
    """Claim, run, finish deployment `deployment_id` and start the next (worker.run_deployment)."""
    worker.run_deployment(deployment_id, send=enqueue)


@shared_task(name="deployments.tasks.watchdog", ignore_result=True)
def watchdog() -> dict[str, list[int]]:
    """Fail deployments whose worker died; re-send queued ones whose task was lost."""
    return worker.watchdog(send=enqueue)


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
