from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Git webhooks: a trigger of deployments, above them (receivers, secrets, the inbox)."""

    name = "webhooks"
