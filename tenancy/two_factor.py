"""Reads about a user's second factor, and the organization rule that requires one.

Two devices, both on django-otp: an AuthenticatorDevice (the TOTP app, tenancy/models/devices.py)
and django-otp's static device holding the single-use recovery codes. Only a confirmed
authenticator means "two-factor is on".
"""

from __future__ import annotations

import hashlib

from tenancy.models import AuthenticatorDevice, Membership, User
from tenancy.roles import Role

# Roles an organization's "require two-factor" setting applies to.
TWO_FACTOR_ROLES = frozenset({Role.OWNER, Role.ADMIN})


def has_two_factor(user: User) -> bool:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_missing(membership: Membership) -> bool:
    """True when the organization requires two-factor of this member's role and it is not on."""
    return (
        membership.organization.require_two_factor
        and membership.role in TWO_FACTOR_ROLES
        and not has_two_factor(membership.user)
    )


def recovery_code_digest(code: str) -> str:
    """What is stored for a recovery code (django-otp's StaticToken holds 16 characters).

    Codes carry 80 random bits, so a digest read from a database copy cannot be reversed by
    trying every code; the user types the code, we compare digests.
    """
    normalized = "".join(code.split()).replace("-", "").lower()
    return hashlib.sha256(f"deploynix-recovery:{normalized}".encode()).hexdigest()[:16]
