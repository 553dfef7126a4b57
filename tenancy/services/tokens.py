"""API tokens: minting, checking and revoking, and the one table from abilities to capabilities.

A token is `dnx_` + 43 url-safe characters (256 random bits), shown once. The database keeps
the first 12 characters (`prefix`, unique, for an indexed lookup) and the SHA-256 of the whole
token. A plain hash is enough for a 256-bit random secret (nothing to brute-force), and keeping
SECRET_KEY out of it means rotating the session key does not silently revoke every token.

A token never holds more than its user's CURRENT role: every request re-reads the membership,
so a demoted user's token is demoted with them and a removed member's token stops working (401).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tenancy.audit import Actor, audit_record
from tenancy.models import Ability, ApiToken, Membership, Organization, User
from tenancy.roles import Cap, can

TOKEN_PREFIX = "dnx_"
LOOKUP_LENGTH = 12
# The only form a token has (`_mint`: 32 random bytes, url-safe base64 without padding).
TOKEN_FORM = re.compile(r"dnx_[A-Za-z0-9_-]{43}")
TOKEN_FORM_BYTES = re.compile(rb"dnx_[A-Za-z0-9_-]{43}")
# last_used_at is a hint for humans; writing it on every request would make every API read a
# database write.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# The one table: what each ability needs the token's user to be allowed to do right now.
ABILITY_CAPS: dict[Ability, Cap] = {
    Ability.SERVER_READ: Cap.VIEW,
    Ability.SERVER_WRITE: Cap.MANAGE_SERVERS,
    Ability.SITE_READ: Cap.VIEW,
    Ability.SITE_WRITE: Cap.EDIT_SITES,
    Ability.SITE_DEPLOY: Cap.DEPLOY,
}


class TokenInvalid(Exception):
    """The presented token is unknown, revoked, expired, or its user left the organization."""


@dataclass(frozen=True)
class TokenGrant:
    """What an authenticated token may act as: its row and the user's current membership."""

    token: ApiToken
    membership: Membership

    @property
    def organization(self) -> Organization:
        return self.membership.organization

    def allows(self, ability: Ability | str) -> bool:
        """True when the token carries `ability` AND the user's current role has its capability."""
        ability = Ability(ability)
        return ability in self.token.abilities and can(self.membership.role, ABILITY_CAPS[ability])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _mint() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def abilities_from_input(values: Iterable[str]) -> list[str]:
    """Validate and order a list of ability names; ValidationError names the unknown ones."""
    wanted = {str(v).strip() for v in values if str(v).strip()}
    unknown = sorted(wanted - set(Ability.values))
    if unknown:
        raise ValidationError({"abilities": f"Unknown abilities: {', '.join(unknown)}."})
    if not wanted:
        raise ValidationError({"abilities": "Choose at least one ability."})
    return [a for a in Ability.values if a in wanted]


def abilities_beyond_role(abilities: Iterable[str], role: int) -> list[str]:
    """The abilities whose capability `role` lacks (a token may not be minted above its user)."""
    return [a for a in abilities if not can(role, ABILITY_CAPS[Ability(a)])]


def api_token_create(
    *,
    actor: Actor,
    user: User,
    organization: Organization,
    name: str,
    abilities: Iterable[str],
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Mint a token for `user` in `organization`; returns (row, plaintext shown once). Audited.

    Raises PermissionDenied when `user` is not a member or asks for abilities above their role,
    ValidationError for a bad name, ability or lifetime.
    """
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": "Give the token a name of at most 100 characters."})
    chosen = abilities_from_input(abilities)
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise ValidationError({"expires_in_days": "Choose between 1 and 3650 days, or none."})
    membership = Membership.objects.filter(user=user, organization=organization).first()
    if membership is None:
        raise PermissionDenied("You are not a member of this organization.")
    beyond = abilities_beyond_role(chosen, membership.role)
    if beyond:
        raise PermissionDenied(
            f"Your role ({membership.role_label}) cannot grant: {', '.join(beyond)}."
        )
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    return _insert(actor, user, organization, name, chosen, expires_at)


def _insert(
    actor: Actor, user: User, organization: Organization, name: str, abilities: list[str],
    expires_at: datetime | None,
) -> tuple[ApiToken, str]:
    # A 48-bit prefix collision is astronomically rare, but the unique index would turn it into
    # an error page; mint again instead.
    for _attempt in range(3):
        plaintext = _mint()
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user, organization=organization, name=name, abilities=abilities,
                    prefix=plaintext[:LOOKUP_LENGTH], hash=token_hash(plaintext),
                    expires_at=expires_at,
                )
                audit_record(
                    actor=actor, organization=organization, verb="api_token.create",
                    target=token, after={"name": name, "abilities": abilities,
                                         "expires_at": expires_at and expires_at.isoformat()},
                )
            return token, plaintext
        except IntegrityError:
            continue
    raise RuntimeError("could not mint a unique API token prefix")


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    """Revoke `token` (only its own user may). Idempotent; the first revocation is audited."""
    if actor.user is None or actor.user.pk != token.user_id:
        raise PermissionDenied("Only the token's owner can revoke it.")
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token.refresh_from_db()
    if updated:
        audit_record(actor=actor, organization=token.organization, verb="api_token.revoke",
                     target=token)
    return token


def api_token_authenticate(plaintext: str) -> TokenGrant:
    """The grant for a presented token, or TokenInvalid. Compares hashes in constant time."""
    if not TOKEN_FORM.fullmatch(plaintext):
        raise TokenInvalid
    token = (
        ApiToken.objects.usable().select_related("user", "organization")
        .filter(prefix=plaintext[:LOOKUP_LENGTH]).first()
    )
    if token is None or not hmac.compare_digest(token.hash, token_hash(plaintext)):
        raise TokenInvalid
    if not token.user.is_active:
        raise TokenInvalid
    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(user_id=token.user_id, organization_id=token.organization_id).first()
    )
    if membership is None:
        raise TokenInvalid
    _touch(token)
    return TokenGrant(token=token, membership=membership)


def _touch(token: ApiToken) -> None:
    """Record use at most once per LAST_USED_RESOLUTION (a conditional UPDATE, race-free)."""
    now = timezone.now()
    stale = now - LAST_USED_RESOLUTION
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)
    ).update(last_used_at=now)


def api_token_list(*, user: User) -> list[ApiToken]:
    """The user's tokens, every organization, newest first."""
    return list(ApiToken.objects.filter(user=user).select_related("organization"))
