"""Writing audit events. Call from inside the service's transaction, never from signals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tenancy.models import ApiToken, AuditEvent, Organization, User


@dataclass(frozen=True)
class Actor:
    """Who did it, and through which door: a user (web/API) or the system/webhook.

    `token`: the API token the user acted through, so work queued now can be re-authorized
    against it when it starts (deployments/authority.py).
    """

    user: User | None
    source: str = AuditEvent.Source.WEB
    ip: str | None = None
    token: ApiToken | None = None

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.email
        return self.source

    @classmethod
    def system(cls) -> Actor:
        return cls(user=None, source=AuditEvent.Source.SYSTEM)


def audit_record(
    *,
    actor: Actor,
    organization: Organization | None,
    verb: str,
    target: Any = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Record `verb` by `actor` on `target` (a model instance or None)."""
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor.user,
        actor_name=actor.name,
        verb=verb,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        before=before,
        after=after,
        source=actor.source,
        ip=actor.ip,
    )
