"""What webhooks learns from deployments after a delivery was acted on.

A push that verified and was new can still be stale: its commit is neither the branch tip nor
a descendant of the live commit, which only the servers' git mirror can tell, so the deploy
refuses it (deployments/pipeline/steps.py `_refuse_backwards`). The delivery that asked for it
then says so in the inbox instead of "deployed #N".
"""

from __future__ import annotations

from deployments.models import Deployment, Status, Trigger
from deployments.pipeline.git import STALE_PUSH
from webhooks.models import Decision, WebhookDelivery


def delivery_mark_stale(sender, deployment_id: int, status: str | None = None,
                        **kwargs) -> None:
    """deployment_status_changed receiver (connected in WebhooksConfig.ready())."""
    if status is not None and status != Status.FAILED:
        return
    row = (
        Deployment.objects.filter(pk=deployment_id, trigger=Trigger.WEBHOOK,
                                  status=Status.FAILED, error__contains=STALE_PUSH)
        .values("error").first()
    )
    if row is None:
        return
    WebhookDelivery.objects.filter(deployment_id=deployment_id).update(
        decision=Decision.STALE, reason=row["error"][:200]
    )
