"""Recurring schedules: the one check of a cron expression, its next run, and its words.

Five fields (minute hour day-of-month month day-of-week), read in the organization's time zone
(tenancy/timezones.py), so "0 6 * * 1-5" is 06:00 there in summer and in winter. croniter does
the calendar arithmetic (daylight saving included), cron-descriptor the human text.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cron_descriptor import ExpressionDescriptor, Options
from croniter import croniter
from croniter.croniter import CroniterError
from django.core.exceptions import ValidationError

MAX_CRON_LENGTH = 100
# A deploy is minutes of work on every server: a schedule may not ask for one more often.
MIN_INTERVAL = timedelta(minutes=10)
RUNS_CHECKED = 50  # upcoming runs whose spacing is checked against MIN_INTERVAL
FIELDS = "minute hour day-of-month month day-of-week"


def clean_cron(text: str | None) -> str:
    """A valid five-field expression, spaces normalized, or a ValidationError saying why."""
    cron = re.sub(r"\s+", " ", (text or "").strip())
    if len(cron) > MAX_CRON_LENGTH:
        raise ValidationError(f"At most {MAX_CRON_LENGTH} characters.", code="cron")
    if len(cron.split(" ")) != 5 or not croniter.is_valid(cron):
        raise ValidationError(f"Five fields: {FIELDS}, e.g. 0 6 * * 1-5.", code="cron")
    runs = upcoming(cron, ZoneInfo("UTC"), datetime.now(UTC), RUNS_CHECKED)
    if not runs:
        raise ValidationError("This expression never runs (check the day and month).",
                              code="cron")
    if any(b - a < MIN_INTERVAL for a, b in zip(runs, runs[1:], strict=False)):
        raise ValidationError("Deploys may repeat at most every 10 minutes.", code="cron")
    return cron


def upcoming(cron: str, tz: ZoneInfo, after: datetime, count: int) -> list[datetime]:
    """The next `count` runs after `after`, in UTC ([] when the expression never runs)."""
    runs = croniter(cron, after.astimezone(tz))
    try:
        return [runs.get_next(datetime).astimezone(UTC) for _ in range(count)]
    except CroniterError:
        return []


def next_run(cron: str, tz: ZoneInfo, after: datetime) -> datetime:
    """The first run strictly after `after`, in UTC (the expression was cleaned: it runs)."""
    return upcoming(cron, tz, after, 1)[0]


def describe(cron: str) -> str:
    """The expression in words, e.g. "At 06:00, Monday through Friday"."""
    options = Options()
    options.use_24hour_time_format = True
    try:
        return ExpressionDescriptor(cron, options).get_description()
    except Exception:  # the library raises its own family of errors; words are a nicety
        return cron
