"""Freeze windows: when one is active, reading them, adding and removing them.

A window belongs to an organization (every site) or to one site (sites/models.py
`FreezeWindow`). What a freeze does to a deploy is decided in deployments/gates.py; this
module only answers "is `site` frozen at this instant, by which window, until when?".
Weekly windows are wall-clock times in their own time zone, so "Fridays 16:00–23:59
Europe/Berlin" follows daylight saving time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from sites.models import FreezeWindow, Site
from tenancy.audit import Actor, audit_record
from tenancy.models import Organization

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Bounds on what one window may hold: a one-off window longer than this is a typo.
LONGEST_ONE_OFF = timedelta(days=90)
MAX_WINDOWS_PER_SCOPE = 50


@dataclass(frozen=True)
class ActiveFreeze:
    """A window that freezes a site now, and the instant it ends."""

    window: FreezeWindow
    ends_at: datetime

    @property
    def scope(self) -> str:
        return "organization" if self.window.site_id is None else "site"

    @property
    def text(self) -> str:
        """One sentence for pages, errors and audit events."""
        return (f"Deploys are frozen by the {self.scope} window “{self.window.name}” "
                f"until {self.ends_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC.")


def window_end_if_active(window: FreezeWindow, at: datetime) -> datetime | None:
    """The instant `window` stops freezing, when it is active at `at` (None otherwise)."""
    if window.kind == FreezeWindow.Kind.ONCE:
        if window.starts_at and window.ends_at and window.starts_at <= at < window.ends_at:
            return window.ends_at
        return None
    zone = ZoneInfo(window.time_zone)
    local = at.astimezone(zone)
    # The occurrence that began today, or the one that began yesterday and runs past midnight.
    for began in (local.date(), local.date() - timedelta(days=1)):
        start, end = _occurrence(window, began, zone)
        if start is not None and start <= at < end:
            return end.astimezone(UTC)
    return None


def _occurrence(window: FreezeWindow, day: date, zone: ZoneInfo):
    """(start, end) of the weekly window's occurrence that begins on `day`, or (None, None)."""
    if day.weekday() not in window.days:
        return None, None
    start = datetime.combine(day, window.start_time, tzinfo=zone)
    end_day = day if window.end_time > window.start_time else day + timedelta(days=1)
    return start, datetime.combine(end_day, window.end_time, tzinfo=zone)


def windows_of_site(site: Site):
    """The windows that apply to `site`: its own and its organization's."""
    return FreezeWindow.objects.filter(
        Q(site=site) | Q(site__isnull=True), organization_id=site.organization_id
    )


def active_freeze(site: Site, at: datetime) -> ActiveFreeze | None:
    """The window freezing `site` at `at` that ends last (None when deploys are free)."""
    return freeze_among(windows_of_site(site), at)


def freeze_among(windows, at: datetime) -> ActiveFreeze | None:
    """Of `windows`, the one active at `at` that ends last (None when none is active)."""
    ends = [(end, w) for w in windows if (end := window_end_if_active(w, at))]
    if not ends:
        return None
    end, window = max(ends, key=lambda pair: pair[0])
    return ActiveFreeze(window=window, ends_at=end)


def freeze_window_list(*, organization: Organization, site: Site | None):
    """The windows of one scope: the organization's own (`site` None) or one site's."""
    return FreezeWindow.objects.filter(organization=organization, site=site)


def freeze_window_create(
    *, organization: Organization, site: Site | None, actor: Actor, name: str, kind: str,
    time_zone: str = "UTC", starts_at: datetime | None = None, ends_at: datetime | None = None,
    days: list[int] | None = None, start_time: time | None = None, end_time: time | None = None,
) -> FreezeWindow:
    """Add a freeze window to the organization (`site` None) or to `site`. Raises
    ValidationError (by field) for a bad window. Audited."""
    if site is not None and site.organization_id != organization.pk:
        raise ValueError("the site belongs to another organization")
    window = FreezeWindow(
        organization=organization, site=site, name=(name or "").strip()[:100], kind=kind,
        time_zone=time_zone or "UTC", starts_at=starts_at, ends_at=ends_at,
        days=sorted(set(days or [])), start_time=start_time, end_time=end_time,
        created_by_name=actor.name,
    )
    _validate(window)
    with transaction.atomic():
        if freeze_window_list(organization=organization, site=site).count() >= (
                MAX_WINDOWS_PER_SCOPE):
            raise ValidationError({"name": [f"At most {MAX_WINDOWS_PER_SCOPE} windows here."]})
        window.save()
        audit_record(actor=actor, organization=organization, verb="freeze_window.created",
                     target=window, after=_audit_view(window))
    return window


# What an edit may change; the scope (organization or site) and the creator stay.
EDITABLE = ("name", "kind", "time_zone", "starts_at", "ends_at", "days", "start_time",
            "end_time")


def freeze_window_update(*, window: FreezeWindow, actor: Actor, **changes) -> FreezeWindow:
    """Change a window in place (any of EDITABLE; the others keep their values), validated
    like a new one: a bad edit raises ValidationError (by field) and writes nothing. Deploys
    it holds are released by the next sweep once it no longer freezes them. Audited."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"{', '.join(sorted(unknown))} cannot be changed")
    before = _audit_view(window)
    edited = FreezeWindow.objects.get(pk=window.pk)  # the caller's instance stays as it was
    for field, value in changes.items():
        setattr(edited, field, value)
    edited.name = (edited.name or "").strip()[:100]
    edited.time_zone = edited.time_zone or "UTC"
    edited.days = sorted(set(edited.days or []))
    _validate(edited)
    with transaction.atomic():
        edited.save()
        audit_record(actor=actor, organization=edited.organization,
                     verb="freeze_window.updated", target=edited, before=before,
                     after=_audit_view(edited))
    return edited


def freeze_window_delete(*, window: FreezeWindow, actor: Actor) -> None:
    """Remove a freeze window; deploys it held are released by the next sweep. Audited."""
    with transaction.atomic():
        audit_record(actor=actor, organization=window.organization,
                     verb="freeze_window.deleted", target=window, before=_audit_view(window))
        window.delete()


def with_state(windows, at: datetime) -> list[FreezeWindow]:
    """The windows, each with `when` (describe) and `active_until` (None when inactive) set,
    for pages."""
    rows = list(windows)
    for window in rows:
        window.when = describe(window)
        window.active_until = window_end_if_active(window, at)
    return rows


def describe(window: FreezeWindow) -> str:
    """"Fri 16:00–23:59 Europe/Berlin" or "2026-12-20 00:00 → 2027-01-04 00:00 UTC"."""
    if window.kind == FreezeWindow.Kind.ONCE:
        return f"{window.starts_at:%Y-%m-%d %H:%M} → {window.ends_at:%Y-%m-%d %H:%M} UTC"
    days = ", ".join(DAY_NAMES[d] for d in window.days)
    return (f"{days} {window.start_time:%H:%M}–{window.end_time:%H:%M} {window.time_zone}")


def _validate(window: FreezeWindow) -> None:
    errors: dict[str, list[str]] = {}
    if not window.name:
        errors["name"] = ["Give the window a name."]
    if window.time_zone not in time_zones():
        errors["time_zone"] = ["Give an IANA time zone such as UTC or Europe/Berlin."]
    if window.kind == FreezeWindow.Kind.ONCE:
        errors.update(_once_errors(window))
    elif window.kind == FreezeWindow.Kind.WEEKLY:
        errors.update(_weekly_errors(window))
    else:
        errors["kind"] = ["Choose one-off or weekly."]
    if errors:
        raise ValidationError(errors)


def _once_errors(window: FreezeWindow) -> dict[str, list[str]]:
    if window.starts_at is None or window.ends_at is None:
        return {"starts_at": ["A one-off window needs a start and an end."]}
    if window.ends_at <= window.starts_at:
        return {"ends_at": ["The end must come after the start."]}
    if window.ends_at - window.starts_at > LONGEST_ONE_OFF:
        return {"ends_at": [f"A one-off window lasts at most {LONGEST_ONE_OFF.days} days."]}
    window.days, window.start_time, window.end_time = [], None, None
    return {}


def _weekly_errors(window: FreezeWindow) -> dict[str, list[str]]:
    if not window.days or any(not isinstance(d, int) or not 0 <= d <= 6 for d in window.days):
        return {"days": ["Choose at least one day of the week."]}
    if window.start_time is None or window.end_time is None:
        return {"start_time": ["A weekly window needs a start and an end time."]}
    if window.start_time == window.end_time:
        return {"end_time": ["The end time must differ from the start time."]}
    window.starts_at = window.ends_at = None
    return {}


def time_zones() -> set[str]:
    try:
        return available_timezones() | {"UTC"}
    except ZoneInfoNotFoundError:  # no tz database at all: only UTC can be trusted
        return {"UTC"}


def _audit_view(window: FreezeWindow) -> dict:
    return {"name": window.name, "site": window.site_id, "when": describe(window)}
