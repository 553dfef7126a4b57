from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        # Imported here, not at the top: receivers use models, which Django loads after apps.py.
        from deployments.signals import deployment_status_changed
        from notifications.services import notify_status_change
        from notifications.signals import approval_requested, notification_queued
        from notifications.tasks import send_approval_queued, send_queued

        # deployments announces every committed status change (claimed, finished, cancelled
        # while queued); each may notify the channels that subscribe to its event.
        deployment_status_changed.connect(
            notify_status_change, dispatch_uid="notifications.notify_status_change"
        )
        notification_queued.connect(send_queued, dispatch_uid="notifications.send_queued")
        approval_requested.connect(send_approval_queued,
                                   dispatch_uid="notifications.send_approval_queued")
