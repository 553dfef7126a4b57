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
        # Imported here, not at the top: these modules use models, loaded after apps.py.
        from deployments.context_builder import secret_source_register
        from webhooks.secrets import webhook_secret_values

        # A deploy script that prints the webhook secret must not store it in the log.
        secret_source_register(webhook_secret_values)
