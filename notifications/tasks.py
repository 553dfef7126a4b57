"""Celery tasks of the notifications app. Thin: delivery lives in notifications.services.

The services announce each message with `notification_queued` (notifications/signals.py);
`send_queued`, connected in NotificationsConfig.ready(), queues its delivery.
"""

from __future__ import annotations

from celery import shared_task

from notifications import services
from notifications.transport import DeliveryError

MAX_RETRIES = 5


@shared_task(
    name="notifications.tasks.send_notification",
    autoretry_for=(DeliveryError,),
    retry_backoff=True,  # 1 s, 2 s, 4 s, 8 s, 16 s (with jitter), then give up
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
    ignore_result=True,
)
def send_notification(channel_id: int, payload: dict) -> str:
    """Deliver one event payload to one channel; retried with exponential backoff."""
    return services.channel_deliver(channel_id=channel_id, payload=payload)


def send_queued(sender, *, channel_id: int, payload: dict, **kwargs) -> None:
    """notification_queued receiver: queue the delivery of one message to one channel."""
    send_notification.delay(channel_id, payload)


@shared_task(
    name="notifications.tasks.send_approval_request",
    autoretry_for=(DeliveryError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
    ignore_result=True,
)
def send_approval_request(recipients: list[str], payload: dict) -> None:
    """Mail an approval request to the members who may approve it; retried like the above."""
    services.approval_mail_deliver(recipients=recipients, payload=payload)


def send_approval_queued(sender, *, recipients: list[str], payload: dict, **kwargs) -> None:
    """approval_requested receiver: queue the approval request mail."""
    send_approval_request.delay(recipients, payload)
