"""The schedule form: once at a picked time, or repeating on a cron expression, both in the
organization's time zone. Rules live in schedules.validators and schedules.cron, shared with the
services and the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from schedules.cron import MAX_CRON_LENGTH
from schedules.validators import clean_commit, parse_local_datetime

MAX_INPUT = 40
PICKER_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


def next_full_hour(tz: ZoneInfo) -> str:
    """The picker's starting value: the next full hour, in `tz`."""
    now = timezone.now().astimezone(tz)
    return (now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).strftime(
        PICKER_FORMAT
    )


class ScheduleForm(forms.Form):
    run_at = forms.CharField(
        required=False, max_length=MAX_INPUT, label="Deploy once at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    cron = forms.CharField(
        required=False, max_length=MAX_CRON_LENGTH, label="Or repeat (cron)",
        help_text="Five fields: minute hour day-of-month month day-of-week. "
        "0 6 * * 1-5 is every weekday at 06:00; at most every 10 minutes.",
        widget=forms.TextInput(attrs={"placeholder": "0 6 * * 1-5", "autocomplete": "off",
                                      "spellcheck": "false", "class": "mono"}),
    )
    commit = forms.CharField(
        required=False, max_length=40, label="Commit (optional)",
        help_text="A full 40-character SHA; empty deploys the branch head at that time.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )

    def __init__(self, *args, tz: ZoneInfo, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz
        self.fields["run_at"].help_text = f"Date and time in {tz.key}, the organization's zone."
        self.fields["run_at"].widget.attrs["min"] = timezone.now().astimezone(tz).strftime(
            PICKER_FORMAT
        )

    def clean_run_at(self) -> datetime | None:
        text = self.cleaned_data["run_at"].strip()
        return parse_local_datetime(text, self.tz) if text else None

    def clean_commit(self) -> str:
        return clean_commit(self.cleaned_data.get("commit"))
