"""The freeze window form (sites/freezes.py validates again and bounds everything)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError

from sites.freezes import DAY_NAMES, time_zones
from sites.models import FreezeWindow


class FreezeWindowForm(forms.Form):
    """A one-off window (start and end, wall-clock times in the time zone) or a weekly one
    (days, start and end time). `window_fields()` are freeze_window_create's arguments."""

    name = forms.CharField(max_length=100, help_text="E.g. “Black Friday” or “Weekend”.")
    kind = forms.ChoiceField(choices=FreezeWindow.Kind.choices, initial="weekly",
                             widget=forms.RadioSelect)
    time_zone = forms.CharField(max_length=64, initial="UTC",
                                help_text="IANA name, e.g. Europe/Berlin (times below are in it).")
    starts_at = forms.DateTimeField(
        label="Starts (one-off)", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(
        label="Ends (one-off)", required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    days = forms.TypedMultipleChoiceField(
        label="Days (weekly)", required=False, coerce=int,
        choices=list(enumerate(DAY_NAMES)), widget=forms.CheckboxSelectMultiple)
    start_time = forms.TimeField(label="From (weekly)", required=False,
                                 widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(label="Until (weekly)", required=False,
                               widget=forms.TimeInput(attrs={"type": "time"}),
                               help_text="At or before the start: runs past midnight.")

    def clean_time_zone(self) -> str:
        zone = self.cleaned_data["time_zone"].strip()
        if zone not in time_zones():
            raise ValidationError("Give an IANA time zone such as UTC or Europe/Berlin.")
        return zone

    def window_fields(self) -> dict:
        """The cleaned values, one-off times made instants in the chosen time zone."""
        data = dict(self.cleaned_data)
        zone = ZoneInfo(data["time_zone"])
        for name in ("starts_at", "ends_at"):
            if isinstance(data.get(name), datetime):
                data[name] = data[name].replace(tzinfo=None).replace(tzinfo=zone)
        return data
