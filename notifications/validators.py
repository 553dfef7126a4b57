"""Rules for channel settings, shared by the forms, the services and the API serializers."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from notifications.models import ChannelKind, Event

MAX_URL = 2000
MAX_RECIPIENTS = 20


def clean_url(value: str) -> str:
    """An absolute http(s) URL. Other schemes (file:, ftp:) would let urllib read local files."""
    url = (value or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError("Enter the full https:// URL of the webhook.", code="url")
    if len(url) > MAX_URL or any(c.isspace() for c in url):
        raise ValidationError("This URL is too long or contains spaces.", code="url")
    return url


def clean_recipients(value: str) -> str:
    """One or more e-mail addresses separated by commas or spaces, normalized to `a, b`."""
    addresses = [a for a in re.split(r"[\s,;]+", value or "") if a]
    if not addresses:
        raise ValidationError("Enter at least one e-mail address.", code="email")
    if len(addresses) > MAX_RECIPIENTS:
        raise ValidationError(f"At most {MAX_RECIPIENTS} addresses.", code="email")
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(f"{address} is not an e-mail address.", code="email") from None
    return ", ".join(addresses)


def clean_target(kind: str, value: str) -> str:
    """The target for a channel of `kind`: recipients for e-mail, a URL otherwise."""
    if kind not in ChannelKind.values:
        raise ValidationError(f"Unknown channel type {kind!r}.", code="kind")
    return clean_recipients(value) if kind == ChannelKind.EMAIL else clean_url(value)


def clean_events(values) -> list[str]:
    """A non-empty list of known event names, in the canonical order."""
    chosen = set(values or [])
    unknown = chosen - set(Event.values)
    if unknown:
        raise ValidationError(f"Unknown events: {', '.join(sorted(unknown))}.", code="events")
    if not chosen:
        raise ValidationError("Choose at least one event.", code="events")
    return [e for e in Event.values if e in chosen]
