from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from deployments import lifecycle
        from notifications.services import notify_deployment_status

        # deployments calls every DEPLOYMENT_STATUS_HOOKS entry with a deployment id after each
        # committed status change (claimed, finished, cancelled while queued). Until that list
        # exists there, deployments calls notify_deployment_status directly instead.
        hooks = getattr(lifecycle, "DEPLOYMENT_STATUS_HOOKS", None)
        if hooks is not None and notify_deployment_status not in hooks:
            hooks.append(notify_deployment_status)
