from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Git webhooks: a trigger of deployments, above them (receivers, secrets, the inbox)."""

    name = "webhooks"

    def ready(self) -> None:
        # Imported here, not at the top: receivers use models, which Django loads after apps.py.
        from deployments.signals import deployment_status_changed
        from webhooks.receivers import delivery_mark_stale

        deployment_status_changed.connect(
            delivery_mark_stale, dispatch_uid="webhooks.delivery_mark_stale"
        )
