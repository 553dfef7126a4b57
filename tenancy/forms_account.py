"""Forms of the account pages: codes, password confirmation, the organization's 2FA rule."""

from __future__ import annotations

from django import forms

from tenancy.models import User
from tenancy.timezones import time_zone_names


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=40, label="Code",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
        help_text="Six digits from your authenticator app, or one of your recovery codes.",
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, strip=False, max_length=256,
                               label="Your password")

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


class OrgSecurityForm(forms.Form):
    require_two_factor = forms.BooleanField(
        required=False, label="Require two-factor authentication for Owners and Admins",
        help_text="Owners and Admins without it are sent to set it up before any page of this "
        "organization, and their API tokens for it are refused.",
    )


class OrgTimeZoneForm(forms.Form):
    time_zone = forms.TypedChoiceField(
        choices=[], label="Time zone",
        help_text="Scheduled deploys are typed and shown in this zone; daylight saving included.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name) for name in time_zone_names()]
