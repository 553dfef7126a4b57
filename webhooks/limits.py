"""Rate limits of the hook URLs (django-ratelimit counters in the shared cache).

Anyone who knows a hook URL can post to it, and each post costs an HMAC and maybe a database
row. Every delivery counts against its site and its client address; one whose signature
fails counts again, per site, in a bucket an order of magnitude smaller, so guessing a secret
is throttled long before honest traffic is. Bad signatures are deliberately not counted per
address alone: a git host sends every tenant's pushes from the same few addresses, and one
site with a wrong secret must not silence the others. A limited request is answered 429 with
Retry-After before its body is read, and is not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from sites.models import Site
from tenancy.access import client_ip


@dataclass(frozen=True)
class Limited:
    retry_after: int  # seconds until the fullest bucket's window ends
    reason: str


def _buckets(request: HttpRequest, site: Site) -> list[tuple[str, str, str]]:
    """(group, key value, rate) of every counter a delivery to `site` goes through."""
    ip = client_ip(request) or "unknown"
    bad = settings.WEBHOOK_BAD_SIGNATURE_RATE
    return [
        ("webhook-site", str(site.webhook_uuid), settings.WEBHOOK_RATE_SITE),
        ("webhook-ip", ip, settings.WEBHOOK_RATE_IP),
        ("webhook-bad-site", str(site.webhook_uuid), bad),
    ]


def _usage(request: HttpRequest, group: str, value: str, rate: str, increment: bool):
    return get_usage(request, group=group, key=lambda _group, _request: value, rate=rate,
                     increment=increment)


def webhook_limit(request: HttpRequest, site: Site) -> Limited | None:
    """Count this delivery (site and address) and say whether it must be refused with 429.

    The bad-signature buckets are only read here; `webhook_count_bad_signature` fills them.
    """
    for group, value, rate in _buckets(request, site):
        usage = _usage(request, group, value, rate, increment=not group.startswith("webhook-bad"))
        if usage is None:
            continue  # rate limiting switched off (RATELIMIT_ENABLE)
        # A bad-signature bucket refuses once full; the others once over.
        full = usage["count"] >= usage["limit"] if "bad" in group else usage["should_limit"]
        if full:
            what = "bad signatures" if "bad" in group else "deliveries"
            per = "address" if group.endswith("ip") else "site"
            return Limited(max(1, usage["time_left"]), f"too many {what} for this {per}")
    return None


def webhook_count_bad_signature(request: HttpRequest, site: Site) -> None:
    """Count a delivery whose signature failed against its site."""
    for group, value, rate in _buckets(request, site):
        if group.startswith("webhook-bad"):
            _usage(request, group, value, rate, increment=True)
