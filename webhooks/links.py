"""The public hook URLs of a site, one per provider."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from sites.models import Site
from webhooks.verify import VERIFIERS


def webhook_urls(site: Site) -> dict[str, str]:
    """The hook URL per provider (public: the secret, not the URL, authenticates a delivery)."""
    base = settings.PUBLIC_URL.rstrip("/")
    return {
        provider: base + reverse("webhook", kwargs={"site_uuid": site.webhook_uuid,
                                                    "provider": provider})
        for provider in VERIFIERS
    }
