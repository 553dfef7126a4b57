"""Minting, hashing, checking and revoking tokens (tenancy.services.tokens)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tenancy.audit import Actor
from tenancy.models import ApiToken, AuditEvent
from tenancy.services.tokens import (
    TokenInvalid,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    token_hash,
)


def create(cast, user=None, **kwargs):
    user = user or cast.developer
    defaults = {"name": "ci", "abilities": ["site:read", "site:deploy"]}
    return api_token_create(actor=Actor(user=user), user=user, organization=cast.org,
                            **{**defaults, **kwargs})


def test_it_stores_only_a_prefix_and_a_hash(cast):
    token, plaintext = create(cast)
    assert plaintext.startswith("dnx_") and len(plaintext) > 40
    assert token.prefix == plaintext[:12] and token.hash == token_hash(plaintext)
    assert plaintext not in str(ApiToken.objects.values().get(pk=token.pk))


def test_it_authenticates_the_exact_token_only(cast):
    _token, plaintext = create(cast)
    assert api_token_authenticate(plaintext).membership.user == cast.developer
    with pytest.raises(TokenInvalid):
        api_token_authenticate(plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B"))


def test_it_refuses_abilities_above_the_role(cast):
    with pytest.raises(PermissionDenied):
        create(cast, user=cast.viewer, abilities=["site:deploy"])


def test_it_refuses_unknown_abilities(cast):
    with pytest.raises(ValidationError):
        create(cast, abilities=["site:read", "root:everything"])


def test_it_refuses_non_members(cast):
    with pytest.raises(PermissionDenied):
        create(cast, user=cast.outsider)


def test_it_audits_create_and_revoke_once(cast):
    token, _ = create(cast)
    api_token_revoke(actor=Actor(user=cast.developer), token=token)
    api_token_revoke(actor=Actor(user=cast.developer), token=token)
    events = AuditEvent.objects.filter(verb__startswith="api_token")
    verbs = list(events.values_list("verb", flat=True))
    assert sorted(verbs) == ["api_token.create", "api_token.revoke"]


def test_it_lets_only_the_owner_revoke(cast):
    token, _ = create(cast)
    with pytest.raises(PermissionDenied):
        api_token_revoke(actor=Actor(user=cast.owner), token=token)


def test_it_updates_last_used_at_at_most_once_a_minute(cast):
    token, plaintext = create(cast)
    api_token_authenticate(plaintext)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    api_token_authenticate(plaintext)
    assert first is not None
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first


def test_it_keeps_the_token_out_of_the_audit_log(cast):
    _token, plaintext = create(cast)
    rows = str(list(AuditEvent.objects.values()))
    assert plaintext not in rows and plaintext[12:30] not in rows
