"""Writes to scheduled deploys: create, cancel, and fire the due ones (the beat's side).

A schedule leaves `pending` only through a conditional UPDATE (`WHERE status = 'pending'`),
so two beat processes, a redelivered task or a restart mid-run fire it at most once. A recurring
schedule is claimed by moving `run_at` from the time it was due to its next run, under the same
kind of guard (`WHERE run_at = <the due time>`): once per occurrence.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from deployments.models import Trigger
from deployments.services import DeploymentError, deployment_request
from schedules.cron import clean_cron, next_run
from schedules.models import ScheduledDeploy, ScheduleStatus
from schedules.validators import clean_commit, clean_run_at
from sites.models import Site
from tenancy.audit import Actor, audit_record
from tenancy.models import AuditEvent, Membership
from tenancy.roles import Cap, can
from tenancy.timezones import zone

logger = logging.getLogger(__name__)

# Due schedules handled per beat tick; the rest wait for the next tick (every ~15 s).
FIRE_BATCH = 100


class ScheduleError(Exception):
    """A request that cannot be honoured; the message is shown to the user as is."""


def _clean_when(site: Site, run_at: datetime | None, cron: str) -> tuple[datetime, str]:
    """(first run, cron) for a one-off time or a cron expression; ValidationError by field."""
    if cron and run_at is not None:
        raise ValidationError({"cron": ["Give a time or a cron expression, not both."]})
    if cron:
        try:
            cron = clean_cron(cron)
        except ValidationError as exc:
            raise ValidationError({"cron": exc.messages}) from None
        return next_run(cron, zone(site.organization.time_zone), timezone.now()), cron
    if run_at is None:
        raise ValidationError({"run_at": ["A time is required, or a cron expression to repeat."]})
    try:
        return clean_run_at(run_at), ""
    except ValidationError as exc:
        raise ValidationError({"run_at": exc.messages}) from None


def schedule_create(
    *, site: Site, actor: Actor, run_at: datetime | None = None, commit: str | None = None,
    cron: str = "",
) -> ScheduledDeploy:
    """Schedule a deploy of `site` at `run_at` (aware, in the future), or on every run of `cron`
    (in the organization's time zone), optionally of `commit`.

    Raises ValidationError keyed by field (`run_at`, `cron`, `commit`). The caller has checked
    that `actor` may deploy; the right is checked again every time the schedule fires. Audited.
    """
    errors: dict[str, list[str]] = {}
    try:
        run_at, cron = _clean_when(site, run_at, cron)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        commit = clean_commit(commit)
    except ValidationError as exc:
        errors["commit"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        schedule = ScheduledDeploy.objects.create(
            organization_id=site.organization_id, site=site, run_at=run_at, commit=commit,
            cron=cron, created_by=actor.user, created_by_name=actor.name,
        )
        audit_record(
            actor=actor, organization=site.organization, verb="schedule.created", target=schedule,
            after={"site": site.name, "run_at": run_at.isoformat(), "commit": commit,
                   "cron": cron},
        )
    return schedule


def schedule_cancel(
    *, schedule: ScheduledDeploy, actor: Actor, reason: str = ""
) -> ScheduledDeploy:
    """Cancel a pending schedule. Raises ScheduleError once it fired or was cancelled. Audited."""
    with transaction.atomic():
        if not _close(schedule.pk, reason or f"cancelled by {actor.name}"):
            raise ScheduleError("This scheduled deploy already ran or was cancelled.")
        schedule.refresh_from_db()
        audit_record(
            actor=actor, organization=schedule.site.organization, verb="schedule.cancelled",
            target=schedule, after={"reason": schedule.cancel_reason},
        )
    return schedule


def schedules_fire_due(now: datetime | None = None) -> list[int]:
    """Fire every pending schedule whose time has come; return the ids this call claimed.

    A claimed schedule either queued its deploy or was cancelled with a reason.
    """
    now = now or timezone.now()
    due = list(
        ScheduledDeploy.objects.pending()
        .filter(run_at__lte=now)
        .order_by("run_at", "id")
        .values_list("id", flat=True)[:FIRE_BATCH]
    )
    return [pk for pk in due if _fire_safely(pk, now)]


def _fire_safely(schedule_id: int, now: datetime) -> bool:
    # One broken schedule must not keep the others of this tick from firing.
    try:
        return schedule_fire(schedule_id=schedule_id, now=now) is not None
    except Exception:
        logger.exception("schedule %s: firing failed; it stays pending", schedule_id)
        return False


def schedule_fire(*, schedule_id: int, now: datetime | None = None) -> ScheduledDeploy | None:
    """Claim a due schedule and request its deploy as its creator; None if not claimable.

    A creator who may no longer deploy (removed, deactivated, demoted below Developer) gets
    the schedule cancelled with that reason instead. The claim and the deployment row commit
    together: a crash in between leaves the schedule pending for the next tick.
    """
    now = now or timezone.now()
    with transaction.atomic():
        if not _claim(schedule_id, now):
            return None  # cancelled, not due, or another beat process got there first
        schedule = ScheduledDeploy.objects.select_related("site__organization", "created_by").get(
            pk=schedule_id
        )
        refusal = creator_refusal(schedule)
        if refusal:
            return _cancel_fired(schedule, refusal)
        actor = Actor(user=schedule.created_by, source=AuditEvent.Source.SYSTEM)
        try:
            deployment = deployment_request(
                site=schedule.site, actor=actor, trigger=Trigger.SCHEDULE,
                commit=schedule.commit or None,
            )
        except DeploymentError as exc:
            if schedule.is_recurring:
                return _skip_run(schedule, f"The deploy was refused: {exc}")
            return _cancel_fired(schedule, f"The deploy was refused: {exc}")
        schedule.deployment = deployment
        schedule.save(update_fields=["deployment"])
        audit_record(
            actor=actor, organization=schedule.site.organization, verb="schedule.fired",
            target=schedule, after={"deployment": deployment.pk},
        )
    return schedule


def _claim(schedule_id: int, now: datetime) -> bool:
    """Take a due schedule: a one-off becomes fired, a recurring one moves to its next run."""
    due = ScheduledDeploy.objects.filter(pk=schedule_id, status=ScheduleStatus.PENDING,
                                         run_at__lte=now)
    row = due.values("cron", "run_at", "organization__time_zone").first()
    if row is None:
        return False
    if not row["cron"]:
        return due.update(status=ScheduleStatus.FIRED, fired_at=now) == 1
    # Runs missed while beat was down are not made up: the next run is after now.
    following = next_run(row["cron"], zone(row["organization__time_zone"]), now)
    return due.filter(run_at=row["run_at"]).update(run_at=following, fired_at=now) == 1


def _skip_run(schedule: ScheduledDeploy, reason: str) -> ScheduledDeploy:
    """A recurring schedule whose deploy was refused this time keeps its next runs. Audited."""
    audit_record(
        actor=Actor.system(), organization=schedule.site.organization, verb="schedule.skipped",
        target=schedule, after={"reason": reason[:300], "next_run": schedule.run_at.isoformat()},
    )
    return schedule


def creator_refusal(schedule: ScheduledDeploy) -> str:
    """Why the schedule's creator may not deploy its site now ("" when they may)."""
    user = schedule.created_by
    if user is None or not user.is_active:
        return f"{schedule.created_by_name} no longer has an active account."
    role = (
        Membership.objects.filter(user=user, organization_id=schedule.organization_id)
        .values_list("role", flat=True)
        .first()
    )
    if role is None:
        return f"{schedule.created_by_name} is no longer a member of the organization."
    if not can(role, Cap.DEPLOY):
        return f"{schedule.created_by_name} may no longer deploy (role lowered)."
    return ""


def _cancel_fired(schedule: ScheduledDeploy, reason: str) -> ScheduledDeploy:
    """Turn a just-claimed schedule into a cancelled one (still inside the claim's transaction)."""
    schedule.status, schedule.cancelled_at = ScheduleStatus.CANCELLED, timezone.now()
    schedule.cancel_reason = reason[:300]
    schedule.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    audit_record(
        actor=Actor.system(), organization=schedule.site.organization, verb="schedule.cancelled",
        target=schedule, after={"reason": schedule.cancel_reason},
    )
    return schedule


def _close(schedule_id: int, reason: str) -> bool:
    """pending -> cancelled, only if still pending (the same guard as the beat's claim)."""
    return ScheduledDeploy.objects.filter(pk=schedule_id, status=ScheduleStatus.PENDING).update(
        status=ScheduleStatus.CANCELLED, cancelled_at=timezone.now(), cancel_reason=reason[:300]
    ) == 1
