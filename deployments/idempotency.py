"""`Idempotency-Key` for the API requests that queue a deployment (deploy, rollback).

A client that retries after a timeout must not queue the work twice. The key is scoped to the
organization and the API token (the user acting through it); the first request's deployment is
stored with a fingerprint of the request, and for KEY_TTL the same key returns that deployment
again, while the same key with a different request is refused (422). The key row and the
deployment commit together, so two concurrent copies of one request queue one deployment.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from deployments.models import Deployment, IdempotencyKey
from tenancy.models import ApiToken, Organization

HEADER = "Idempotency-Key"
KEY_TTL = timedelta(hours=24)
# Printable ASCII without spaces, like the UUIDs and random strings clients send.
KEY_FORM = re.compile(r"[\x21-\x7e]{1,255}")


class IdempotencyKeyInvalid(ValueError):
    """The header is present but not a usable key (answered 400)."""


class IdempotencyKeyReused(Exception):
    """The key was used with a different request (answered 422)."""


def idempotency_key_clean(value: str | None) -> str | None:
    """The key from the header value (None when absent); IdempotencyKeyInvalid if malformed."""
    if value is None:
        return None
    if not KEY_FORM.fullmatch(value):
        raise IdempotencyKeyInvalid(
            f"{HEADER} must be 1 to 255 printable ASCII characters without spaces.")
    return value


def request_fingerprint(method: str, path: str, data: dict[str, Any]) -> str:
    """SHA-256 of what identifies a request: method, path and its parsed body, canonically."""
    canonical = json.dumps([method.upper(), path, data], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_deployment(
    *, organization: Organization, token: ApiToken, key: str, fingerprint: str,
    create: Callable[[], Deployment],
) -> tuple[Deployment, bool]:
    """(deployment, replayed): the one `key` already queued, or the one `create()` queues now.

    Raises IdempotencyKeyReused when `key` is live for another request.
    """
    earlier = _live(organization, token, key)
    if earlier is not None:
        return _replay(earlier, fingerprint), True
    try:
        with transaction.atomic():
            deployment = create()
            IdempotencyKey.objects.create(organization=organization, api_token=token, key=key,
                                          fingerprint=fingerprint, deployment=deployment)
    except IntegrityError:
        # A concurrent copy of the request committed first; its deployment is the answer.
        earlier = _live(organization, token, key)
        if earlier is None:
            raise
        return _replay(earlier, fingerprint), True
    return deployment, False


def _live(organization: Organization, token: ApiToken, key: str) -> IdempotencyKey | None:
    """The unexpired row for `key`; an expired one is deleted so the key can be used again."""
    rows = IdempotencyKey.objects.filter(organization=organization, api_token=token, key=key)
    rows.filter(created_at__lt=timezone.now() - KEY_TTL).delete()
    return rows.select_related("deployment").first()


def _replay(earlier: IdempotencyKey, fingerprint: str) -> Deployment:
    if earlier.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"This {HEADER} was already used with a different request; use a new key.")
    return earlier.deployment
