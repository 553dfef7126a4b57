"""Helpers for the tenancy tests: a snapshot of everything a team action could change."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.cache import cache

from tenancy.models import AuditEvent, Invitation, Membership, Organization, User

LINK = re.compile(r"/invitations/([A-Za-z0-9_-]+)/")


def team_state() -> tuple:
    """Every row a team or invitation action could touch (the audit log excluded)."""
    return (
        sorted(Membership.objects.values_list("organization_id", "user_id", "role")),
        sorted(Invitation.objects.values_list("id", "email", "role", "accepted_at", "revoked_at")),
        sorted(User.objects.values_list("id", "email")),
        sorted(Organization.objects.values_list("id", "slug")),
    )


def audit_verbs_since(last_id: int) -> list[str]:
    return list(
        AuditEvent.objects.filter(id__gt=last_id).order_by("id").values_list("verb", flat=True)
    )


def last_audit_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def token_from(message) -> str:
    """The invitation token in an e-mail's body."""
    return LINK.search(message.body).group(1)


@pytest.fixture
def fresh_rate_limits():
    """Forget log-in attempts counted by earlier tests.

    Only this run's cache keys are deleted (by prefix): `cache.clear()` would FLUSHDB the shared
    Redis database under every other test run and the channel layer.
    """

    def _clear() -> None:
        prefix = settings.CACHES["default"]["KEY_PREFIX"]
        client = cache._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)

    _clear()
    yield
    _clear()
