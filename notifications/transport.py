"""Sending: HTTP POST of JSON with urllib (stdlib), and e-mail through Django's backend.

Every failure becomes a DeliveryError whose message is safe to show and store: it names the
host, never the URL (a Slack or Discord webhook URL is itself the credential).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import smtplib
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail

TIMEOUT_SECONDS = 5
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "Deploynix-Notifications/1"


class DeliveryError(Exception):
    """A channel did not accept a message; the task retries it with backoff."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A webhook that answers with a redirect is misconfigured; following it would resend
    # the signed body (or drop it, as GET) to a place nobody configured.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def json_body(document: dict) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are signed are the bytes that are sent."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def post_json(url: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    """POST `body` to `url`; return the 2xx status or raise DeliveryError."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if parts.scheme not in ("http", "https"):  # never file: or ftp: (validated on save, too)
        raise DeliveryError(f"{host}: only http(s) URLs are allowed")
    if getattr(settings, "NOTIFICATIONS_BLOCK_PRIVATE_ADDRESSES", False):
        _refuse_private(host, parts.port or (443 if parts.scheme == "https" else 80))
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            response.read(MAX_RESPONSE_BYTES)
            return response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"{host} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc.__class__.__name__
        raise DeliveryError(f"{host} could not be reached: {reason}") from None


def _refuse_private(host: str, port: int) -> None:
    """Refuse hosts that resolve to loopback, private or link-local addresses.

    Without this, anyone who may add a channel can make the server POST to its own internal
    services and read the status back from the settings page. Best effort: the address may
    change between this lookup and urllib's own (DNS rebinding).
    """
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError:
        raise DeliveryError(f"{host} could not be resolved") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise DeliveryError(f"{host} resolves to a non-public address ({address})")


def send_email(recipients: list[str], subject: str, body: str) -> None:
    """Send a plain-text mail with the configured backend, or raise DeliveryError."""
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"the mail server refused: {exc.__class__.__name__}: {exc}") from None
