"""Reads of webhook deliveries, always through a site."""

from __future__ import annotations

from sites.models import Site
from webhooks.models import WebhookDelivery


def delivery_list_recent(*, site: Site, limit: int) -> list[WebhookDelivery]:
    """The site's latest `limit` deliveries, newest first, with their deployment (one query)."""
    return list(
        WebhookDelivery.objects.filter(site=site).select_related("deployment")
        .order_by("-received_at", "-id")[:limit]
    )
