"""Rules for schedule input, shared by the form, the services and the API serializers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone

FULL_SHA = re.compile(r"[0-9a-f]{40}")
EXAMPLE = "2026-12-01T14:30+01:00"


def parse_aware_datetime(text: str) -> datetime:
    """Parse ISO 8601 text that carries a UTC offset (`…+01:00` or `…Z`).

    A time without an offset is refused rather than guessed: the server's zone is rarely the
    one the user meant, and a deploy at the wrong hour is worse than an error.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            f"Enter a date and time like {EXAMPLE} (or ending in Z for UTC).", code="invalid"
        ) from None
    return clean_run_at(value, check_future=False)


def parse_local_datetime(text: str, tz: ZoneInfo) -> datetime:
    """Read a date-time picker's value ("2026-12-01T14:30") as a wall-clock time in `tz`.

    A time the clocks skip (spring forward) is refused; a time they pass twice (fall back)
    is the first of the two, as most calendars read it.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError("Pick a date and a time.", code="invalid") from None
    aware = value if timezone.is_aware(value) else value.replace(tzinfo=tz, fold=0)
    try:
        utc = aware.astimezone(UTC)
        skipped = timezone.is_naive(value) and utc.astimezone(tz).replace(tzinfo=None) != value
    except OverflowError:
        raise ValidationError("That time is out of range.", code="range") from None
    if skipped:
        raise ValidationError(f"{value:%Y-%m-%d %H:%M} does not exist in {tz.key} "
                              "(the clocks skip it): pick another time.", code="skipped")
    return utc


def clean_run_at(value: datetime, *, now: datetime | None = None, check_future: bool = True
                 ) -> datetime:
    """Refuse a naive time (no offset) or one that is not in the future; return it in UTC."""
    if timezone.is_naive(value):
        raise ValidationError(
            f"Include a UTC offset, e.g. {EXAMPLE} or …Z: a time without one is ambiguous.",
            code="naive",
        )
    if check_future and value <= (now or timezone.now()):
        raise ValidationError("Pick a time in the future.", code="past")
    return value.astimezone(UTC)


def clean_commit(value: str | None) -> str:
    """"" for the branch head, else a full lower-case 40-character SHA."""
    commit = (value or "").strip().lower()
    if commit and not FULL_SHA.fullmatch(commit):
        raise ValidationError("A commit must be its full 40-character SHA.", code="commit")
    return commit
