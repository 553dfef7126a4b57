"""Forms of the servers app. Field rules live in servers.validators, shared with the services."""

from __future__ import annotations

from typing import Any

from django import forms

from servers.models import DEFAULT_SUPERVISOR_CONFIG, Server
from servers.validators import (
    clean_deploy_roots,
    clean_host,
    clean_name,
    clean_port,
    clean_supervisor_config,
    clean_user,
)


class ServerForm(forms.Form):
    """Add or edit a server. The services validate again: the form only gives early feedback."""

    name = forms.CharField(max_length=100, help_text="How the server is called in Deploynix.")
    host = forms.CharField(
        max_length=253,
        help_text="IP address or DNS name.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    # Text, not a number field: the validator's message should explain every bad value the same.
    port = forms.CharField(
        max_length=10, initial="22", widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    user = forms.CharField(
        max_length=64,
        initial="root",
        label="SSH user",
        help_text="The user Deploynix logs in as (its ~/.ssh/authorized_keys needs the key).",
    )
    deploy_roots = forms.CharField(
        label="Allowed deploy roots", required=False, max_length=3_000,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="Directories sites may live under, one per line (~ is the SSH user's home). "
        "Empty: the installation's default (/var/www and ~ unless configured otherwise).",
    )
    supervisor_config = forms.CharField(
        label="Supervisor configuration", max_length=255, initial=DEFAULT_SUPERVISOR_CONFIG,
        required=False,
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
        help_text="The supervisord.conf whose conf.d/ directory gets the sites' workers "
        "(empty: Debian's supervisor package, the default).",
    )

    @classmethod
    def for_server(cls, server: Server, data: Any = None) -> ServerForm:
        """The form pre-filled with `server`'s current values."""
        initial = {
            "name": server.name,
            "host": server.host,
            "port": server.port,
            "user": server.user,
            "deploy_roots": "\n".join(server.deploy_roots),
            "supervisor_config": server.supervisor_config_path,
        }
        return cls(data, initial=initial)

    def clean_name(self) -> str:
        return clean_name(self.cleaned_data["name"])

    def clean_host(self) -> str:
        return clean_host(self.cleaned_data["host"])

    def clean_port(self) -> int:
        return clean_port(self.cleaned_data["port"])

    def clean_user(self) -> str:
        return clean_user(self.cleaned_data["user"])

    def clean_deploy_roots(self) -> list[str]:
        return clean_deploy_roots(self.cleaned_data["deploy_roots"])

    def clean_supervisor_config(self) -> str:
        value = self.cleaned_data["supervisor_config"] or DEFAULT_SUPERVISOR_CONFIG
        return clean_supervisor_config(value)
