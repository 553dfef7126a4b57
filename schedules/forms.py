"""The schedule form. Rules live in schedules.validators, shared with the services and API."""

from __future__ import annotations

from datetime import datetime

from django import forms

from schedules.validators import EXAMPLE, clean_commit, clean_run_at, parse_aware_datetime

MAX_INPUT = 40


class AwareDateTimeField(forms.Field):
    """ISO 8601 text with a UTC offset; a naive time is an error, never silently UTC."""

    widget = forms.TextInput

    def to_python(self, value) -> datetime | None:
        text = str(value or "").strip()
        return parse_aware_datetime(text) if text else None


class ScheduleForm(forms.Form):
    run_at = AwareDateTimeField(
        label="Deploy at",
        help_text=f"Date, time and UTC offset, e.g. {EXAMPLE}, or …Z for UTC.",
        widget=forms.TextInput(
            attrs={"placeholder": EXAMPLE, "autocomplete": "off", "maxlength": MAX_INPUT}
        ),
    )
    commit = forms.CharField(
        required=False, max_length=40, label="Commit (optional)",
        help_text="A full 40-character SHA; empty deploys the branch head at that time.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )

    def clean_run_at(self) -> datetime:
        return clean_run_at(self.cleaned_data["run_at"])

    def clean_commit(self) -> str:
        return clean_commit(self.cleaned_data.get("commit"))
