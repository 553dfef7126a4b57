"""Per-site webhook secrets: created on first need, rotated on request (audited)."""

from __future__ import annotations

import base64
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from sites.models import Site
from tenancy.audit import Actor, audit_record
from webhooks.models import WebhookSecret


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes: usable as is by every provider, and decoded to the
    raw key by Standard Webhooks verifiers."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_secret_get(*, site: Site) -> str | None:
    """The site's secret, or None when none was ever created (deliveries are then refused)."""
    row = WebhookSecret.objects.filter(site=site).first()
    return row.secret if row else None


def webhook_secret_values(site: Site) -> list[str]:
    """The site's webhook secret for the deploy log's redaction (empty when none exists)."""
    secret = webhook_secret_get(site=site)
    return [secret] if secret else []


def webhook_secret_ensure(*, site: Site) -> str:
    """The site's secret, creating it on first use (for whoever may see it: Developer+)."""
    existing = webhook_secret_get(site=site)
    if existing:
        return existing
    try:
        with transaction.atomic():
            return WebhookSecret.objects.create(site=site, secret=new_secret()).secret
    except IntegrityError:
        # Two first views at once: both show the one that won.
        return WebhookSecret.objects.get(site=site).secret


@transaction.atomic
def webhook_secret_reveal(*, site: Site, actor: Actor) -> str:
    """The site's secret (created on first need), read on purpose: audited, never the value.
    The caller checks the "view secrets" capability."""
    secret = webhook_secret_ensure(site=site)
    with transaction.atomic():
        audit_record(actor=actor, organization=site.organization,
                     verb="site.webhook_secret_revealed", target=site)
    return secret


def webhook_secret_rotate(*, site: Site, actor: Actor) -> str:
    """Replace the site's secret (the old one stops working at once). Audited, without values."""
    row, created = WebhookSecret.objects.select_for_update().get_or_create(
        site=site, defaults={"secret": new_secret()}
    )
    if not created:
        row.secret, row.rotated_at = new_secret(), timezone.now()
        row.save(update_fields=["secret", "rotated_at"])
    audit_record(actor=actor, organization=site.organization, verb="site.webhook_secret_rotated",
                 target=site)
    return row.secret
