"""Channel forms. Field rules live in notifications.validators, shared with the services."""

from __future__ import annotations

from django import forms

from notifications.models import Channel, ChannelKind, Event, default_events
from notifications.validators import clean_events, clean_target

TARGET_HELP = (
    "Slack/Discord/Webhook: the full https:// URL. E-mail: addresses separated by commas. "
    "Stored encrypted."
)


class ChannelForm(forms.Form):
    """Add a channel, or edit one (`kind` is then fixed)."""

    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(label="Type", choices=ChannelKind.choices)
    target = forms.CharField(
        label="URL or e-mail addresses", max_length=2000, help_text=TARGET_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    events = forms.MultipleChoiceField(
        choices=Event.choices, widget=forms.CheckboxSelectMultiple, initial=default_events,
    )
    enabled = forms.BooleanField(required=False, initial=True)

    @classmethod
    def for_channel(cls, channel: Channel, data=None) -> ChannelForm:
        """The edit form, pre-filled; the type cannot change (a secret belongs to a webhook)."""
        form = cls(data, initial={"name": channel.name, "kind": channel.kind,
                                  "target": channel.target, "events": channel.events,
                                  "enabled": channel.enabled})
        form.fields["kind"].disabled = True
        return form

    def clean_events(self) -> list[str]:
        return clean_events(self.cleaned_data.get("events"))

    def clean(self) -> dict:
        data = super().clean()
        if "kind" in data and "target" in data:
            try:
                data["target"] = clean_target(data["kind"], data["target"])
            except forms.ValidationError as exc:
                self.add_error("target", exc)
        return data
