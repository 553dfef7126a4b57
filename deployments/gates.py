"""The gates a deploy passes before it is queued: approval, then the freeze.

Decisions only (no writes): deployments/services.py `deployment_request` asks `request_gate`
which status a new deploy starts in; deployments/approvals.py moves deployments through the
gates afterwards (approve, reject, expire, release when a freeze ends).

- **Approval.** A site with an approval role (`Site.approval_role`) starts every deploy
  `awaiting_approval`, whatever triggered it. A member of that role or higher
  (`tenancy.roles.may_approve`), never the requester, approves or rejects it; unanswered, it
  expires after `Site.approval_hours`.
- **Freeze.** While a freeze window is active (sites/freezes.py), a deploy from a push or a
  schedule waits `held` until the window ends; one asked by a person (button, API, command
  line) is refused unless it carries an override reason, which is kept on the row and audited.

Rollbacks pass no gate: a rollback is how an incident ends, and it deploys nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied

from deployments.models import Deployment, Status, Trigger
from sites.freezes import ActiveFreeze, active_freeze
from sites.models import Site
from tenancy.audit import Actor
from tenancy.roles import Role, may_approve

# Triggers a person stands behind: a freeze refuses them without an override reason.
PERSONAL_TRIGGERS = frozenset({Trigger.MANUAL, Trigger.API, Trigger.CLI})
OVERRIDE_MAX = 500


class GateRefused(ValueError):
    """A deploy request the gates refuse; the message is shown to the user as is."""


class ApprovalRefused(PermissionDenied):
    """This member may not answer this approval (a 403 with the reason)."""


@dataclass(frozen=True)
class Gate:
    """How a new deploy starts: its status and the gate fields of its row."""

    status: str
    approval_role: int | None = None
    approval_expires_at: datetime | None = None
    held_by: str = ""
    freeze_override: str = ""
    freeze: ActiveFreeze | None = None

    @property
    def fields(self) -> dict:
        return {"status": self.status, "approval_role": self.approval_role,
                "approval_expires_at": self.approval_expires_at, "held_by": self.held_by,
                "freeze_override": self.freeze_override}


def clean_override(reason: str | None) -> str:
    """The override reason stripped; GateRefused when it is too long."""
    reason = " ".join((reason or "").split())
    if len(reason) > OVERRIDE_MAX:
        raise GateRefused(f"An override reason is at most {OVERRIDE_MAX} characters.")
    return reason


def request_gate(*, site: Site, trigger: str, override: str, now: datetime) -> Gate:
    """The gate a new deploy of `site` through `trigger` starts at (see the module doc).

    Raises GateRefused for a personal request during a freeze without an override reason.
    """
    freeze = active_freeze(site, now)
    if freeze is not None and trigger in PERSONAL_TRIGGERS and not override:
        raise GateRefused(f"{freeze.text} Give a reason to override the freeze.")
    override = override if freeze is not None else ""
    if site.approval_role:
        return Gate(Status.AWAITING_APPROVAL, approval_role=site.approval_role,
                    approval_expires_at=now + timedelta(hours=site.approval_expiry_hours),
                    freeze_override=override, freeze=freeze)
    if freeze is not None and not override:
        return Gate(Status.HELD, held_by=freeze.text, freeze=freeze)
    return Gate(Status.QUEUED, freeze_override=override, freeze=freeze)


def after_approval(deployment: Deployment, now: datetime) -> tuple[str, str]:
    """(status, held_by) of an approved deployment: held while a freeze it has no override
    for is active, queued otherwise."""
    freeze = active_freeze(deployment.site, now)
    if freeze is not None and not deployment.freeze_override:
        return Status.HELD, freeze.text
    return Status.QUEUED, ""


def approver_refusal(deployment: Deployment, actor: Actor, role: int) -> str:
    """Why `actor` (a member of `role`) may not answer `deployment`'s approval ("" if they may)."""
    if actor.user is None:
        return "Only a member can answer an approval."
    if deployment.triggered_by_id == actor.user.pk:
        return "You requested this deployment: another member must approve it."
    required = deployment.approval_role or Role.DEVELOPER
    if not may_approve(role, required):
        return f"Answering this approval needs the {Role(required).label} role or higher."
    return ""
