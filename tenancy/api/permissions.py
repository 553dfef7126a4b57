"""The one API permission: the token carries the ability AND its user's role has the capability."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from tenancy.audit import Actor, audit_record
from tenancy.models import AuditEvent
from tenancy.roles import Cap, can
from tenancy.services.tokens import ABILITY_CAPS, TokenGrant
from tenancy.two_factor import two_factor_missing

SAFE = ("GET", "HEAD", "OPTIONS")


def required_ability(view, method: str):
    """The ability `view` declares for `method` (HEAD/OPTIONS read like GET)."""
    abilities = getattr(view, "abilities", {})
    return abilities.get("GET" if method in ("HEAD", "OPTIONS") else method)


class TokenAbility(BasePermission):
    """Views declare `abilities = {"GET": Ability.SITE_READ, ...}` and optionally
    `extra_caps = {"DELETE": Cap.MANAGE_SERVERS}` for actions the table maps too generously
    (deleting a site needs more than editing one). A method not declared is refused.
    """

    message = "This token may not do that."

    def has_permission(self, request: Request, view) -> bool:
        grant = request.auth
        if not isinstance(grant, TokenGrant):
            return False  # DRF turns this into 401 when no authenticator succeeded
        if not hasattr(view, request.method.lower()):
            return True  # DRF answers 405 for a method the view does not implement
        if two_factor_missing(grant.membership):
            # A token must not outlive the rule: it would be a way round the second factor.
            self.message = "This organization requires two-factor authentication for your role."
            return False
        ability = required_ability(view, request.method)
        extra: Cap | None = getattr(view, "extra_caps", {}).get(request.method)
        allowed = ability is not None and grant.allows(ability)
        if allowed and extra is not None:
            allowed = can(grant.membership.role, extra)
        if not allowed:
            self.message = _refusal(grant, ability, extra)
            if request.method not in SAFE:
                _audit_refusal(request, grant, ability, extra)
        return allowed


def _refusal(grant: TokenGrant, ability, extra: Cap | None) -> str:
    if ability is None:
        return "Method not allowed for API tokens."
    if ability not in grant.token.abilities:
        return f"This token lacks the '{ability}' ability."
    cap = _needed_cap(ability, extra)
    return f"Your role ({grant.membership.role_label}) cannot do this ({cap})."


def _needed_cap(ability, extra: Cap | None) -> Cap | str:
    """The capability the refused request needed (the stricter extra one when declared)."""
    if extra is not None:
        return extra
    return ABILITY_CAPS[ability] if ability is not None else ""


def _audit_refusal(request: Request, grant: TokenGrant, ability, extra: Cap | None) -> None:
    audit_record(
        actor=Actor(user=grant.membership.user, source=AuditEvent.Source.API,
                    ip=request.META.get("REMOTE_ADDR") or None),
        organization=grant.organization,
        verb="permission.denied",
        after={"ability": str(ability), "capability": str(_needed_cap(ability, extra)),
               "path": request.path, "token": grant.token.prefix},
    )
