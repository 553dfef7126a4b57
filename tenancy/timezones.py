"""The organization's time zone: the names it may take and the one check of a name.

Schedules are typed and shown in this zone (schedules/); the database keeps UTC.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError

MAX_TIME_ZONE_LENGTH = 64


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted (UTC included)."""
    return tuple(sorted(available_timezones() | {"UTC"}))


def clean_time_zone(name: str | None) -> str:
    """The name if it is a known IANA zone, else a ValidationError saying so."""
    name = (name or "").strip()
    if len(name) > MAX_TIME_ZONE_LENGTH or name not in time_zone_names():
        raise ValidationError("Pick a time zone from the list, e.g. Europe/Berlin or UTC.",
                              code="time_zone")
    return name


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo of a stored name (UTC for a name this machine no longer knows)."""
    return ZoneInfo(name if name in time_zone_names() else "UTC")
