"""Moving deployments through the gates (deployments/gates.py): approve, reject, expire, and
release the ones a freeze held once it ended.

Every move is one conditional UPDATE from the status it leaves (`awaiting_approval` or
`held`), so two approvers clicking at once, a double click, or two beat processes sweeping
together move a deployment once, and only that move is audited and queued. The sweep
(`gates_sweep`) runs from beat (deployments/tasks.py) on the control queue.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from deployments import gates, lifecycle
from deployments.models import Deployment, Status
from deployments.services import DeploymentError, enqueue_after_commit
from sites.freezes import active_freeze
from tenancy.audit import Actor, audit_record

logger = logging.getLogger(__name__)

REJECT_REASON_MAX = 500
EXPIRED = "approval expired"


def deployment_approve(*, deployment: Deployment, actor: Actor, role: int) -> Deployment:
    """Approve a deployment awaiting approval: it is queued (or held, during a freeze it has no
    override for). `role` is the approver's role in the organization.

    Raises ApprovalRefused (403) for the requester or a role below the one required, and
    DeploymentError when there is nothing to approve. Approving one that is already approved
    returns it unchanged (a double click, or two approvers at once: queued once). Audited.
    """
    _check_approver(deployment, actor, role)
    now = timezone.now()
    status, held_by = gates.after_approval(deployment, now)
    with transaction.atomic():
        moved = _awaiting(deployment.pk, now).update(
            status=status, held_by=held_by, decided_by=actor.user, decided_by_name=actor.name,
            decided_at=now)
        if moved == 1:
            row = _row(deployment.pk)
            audit_record(actor=actor, organization=row.site.organization,
                         verb="deployment.approved", target=row, after={"status": row.status})
            _announce_move(row)
            return row
    row = _row(deployment.pk)
    if row.decided_at is not None and row.status not in (Status.REJECTED, Status.EXPIRED):
        return row  # approved before, by this click's twin or by another approver
    raise _nothing_to_answer(row, now)


def deployment_reject(*, deployment: Deployment, actor: Actor, role: int,
                      reason: str = "") -> Deployment:
    """Reject a deployment awaiting approval: it ends `rejected` and never runs. Same rules
    as approving (not the requester, the required role or higher). Audited with the reason."""
    _check_approver(deployment, actor, role)
    reason = " ".join((reason or "").split())
    if len(reason) > REJECT_REASON_MAX:
        raise DeploymentError(f"A reason is at most {REJECT_REASON_MAX} characters.")
    now = timezone.now()
    with transaction.atomic():
        moved = _awaiting(deployment.pk, now).update(
            status=Status.REJECTED, finished_at=now, decided_by=actor.user,
            decided_by_name=actor.name, decided_at=now,
            error=f"rejected by {actor.name}" + (f": {reason}" if reason else ""))
        if moved == 1:
            row = _row(deployment.pk)
            audit_record(actor=actor, organization=row.site.organization,
                         verb="deployment.rejected", target=row, after={"reason": reason})
            transaction.on_commit(lambda: lifecycle.announce(row), robust=True)
            return row
    row = _row(deployment.pk)
    if row.status == Status.REJECTED:
        return row
    raise _nothing_to_answer(row, now)


def gates_sweep(now: datetime | None = None) -> dict[str, list[int]]:
    """Expire unanswered approvals whose time is up; queue held deployments whose freeze
    ended. Run by beat (deployments/tasks.py `gates_sweep`); safe to run twice at once."""
    now = now or timezone.now()
    due = Deployment.objects.filter(status=Status.AWAITING_APPROVAL,
                                    approval_expires_at__lte=now).values_list("id", flat=True)
    expired = [pk for pk in list(due) if deployment_expire(pk, now)]
    held = Deployment.objects.filter(status=Status.HELD).select_related("site")
    released = [row.pk for row in list(held)
                if active_freeze(row.site, now) is None and _release(row.pk)]
    return {"expired": expired, "released": released}


def deployment_expire(deployment_id: int, now: datetime) -> bool:
    """awaiting_approval -> expired for one whose approval time is up. Audited (the system)."""
    with transaction.atomic():
        moved = Deployment.objects.filter(
            pk=deployment_id, status=Status.AWAITING_APPROVAL, approval_expires_at__lte=now,
        ).update(status=Status.EXPIRED, finished_at=now,
                 error=f"{EXPIRED}: nobody answered within the site's approval time")
        if moved != 1:
            return False
        row = _row(deployment_id)
        audit_record(actor=Actor.system(), organization=row.site.organization,
                     verb="deployment.approval_expired", target=row,
                     after={"expired_at": row.approval_expires_at.isoformat()})
        transaction.on_commit(lambda: lifecycle.announce(row), robust=True)
    return True


def _release(deployment_id: int) -> bool:
    """held -> queued once its freeze ended. Audited (the system); sent to a worker."""
    with transaction.atomic():
        moved = Deployment.objects.filter(pk=deployment_id, status=Status.HELD).update(
            status=Status.QUEUED)
        if moved != 1:
            return False
        row = _row(deployment_id)
        audit_record(actor=Actor.system(), organization=row.site.organization,
                     verb="deployment.released", target=row, after={"held_by": row.held_by})
        enqueue_after_commit(row)
    logger.info("deployment %s: its freeze ended, queued", deployment_id)
    return True


def _awaiting(deployment_id: int, now: datetime):
    """The deployment, if it still awaits an approval that has not expired."""
    return Deployment.objects.filter(pk=deployment_id, status=Status.AWAITING_APPROVAL,
                                     approval_expires_at__gt=now)


def _check_approver(deployment: Deployment, actor: Actor, role: int) -> None:
    refusal = gates.approver_refusal(deployment, actor, role)
    if refusal:
        raise gates.ApprovalRefused(refusal)


def _row(deployment_id: int) -> Deployment:
    return Deployment.objects.select_related("site__organization").get(pk=deployment_id)


def _nothing_to_answer(row: Deployment, now: datetime) -> DeploymentError:
    """Why an answer moved nothing; an approval found past its time is expired on the way
    (outside the answer's transaction, so the expiry stays)."""
    if row.status == Status.AWAITING_APPROVAL:
        deployment_expire(row.pk, now)
        return DeploymentError("The approval time of this deployment is over: it expired.")
    return DeploymentError(f"This deployment is {row.get_status_display().lower()}: "
                           "there is no approval to answer.")


def _announce_move(row: Deployment) -> None:
    if row.status == Status.QUEUED:
        enqueue_after_commit(row)
    else:
        transaction.on_commit(lambda: lifecycle.announce(row), robust=True)
