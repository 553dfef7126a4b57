"""Forms of the load-balancer pages. Rules live in loadbalancers/validators.py (the services
check again); forms give early feedback and turn the page's fields into service arguments."""

from __future__ import annotations

import shlex
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from loadbalancers import validators as v
from loadbalancers.models import (
    DEFAULT_CONF_DIR,
    DEFAULT_LOG_DIR,
    DEFAULT_RELOAD_COMMAND,
    DEFAULT_TEST_COMMAND,
    BalancedSite,
    LoadBalancer,
    Method,
)
from servers.models import Server
from sites.models import Site

COMMAND_HELP = "Words separated by spaces (quote a word with spaces); run as an argv, no shell."


class CommandField(forms.CharField):
    """An argv list edited as shell words (split by shlex, never run by a shell)."""

    def prepare_value(self, value: Any) -> Any:
        return shlex.join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value)
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise ValidationError(f"Cannot read this command: {exc}.") from None
        return v.clean_command(words)


class LoadBalancerForm(forms.Form):
    name = forms.CharField(max_length=100)
    server = forms.ModelChoiceField(
        queryset=Server.objects.none(), help_text="The server running the balancer's nginx."
    )
    conf_dir = forms.CharField(
        max_length=300, initial=DEFAULT_CONF_DIR, label="nginx include directory",
        help_text="Deploynix writes one file here; nginx must `include` this directory's "
        "*.conf inside `http`.",
    )
    log_dir = forms.CharField(max_length=300, initial=DEFAULT_LOG_DIR, label="Access log directory")
    test_command = CommandField(
        max_length=2000, initial=DEFAULT_TEST_COMMAND, help_text="Run before every reload. "
        + COMMAND_HELP,
    )
    reload_command = CommandField(
        max_length=2000, initial=DEFAULT_RELOAD_COMMAND, help_text="Graceful reload. "
        + COMMAND_HELP,
    )

    def __init__(self, *args: Any, org: Any, instance: LoadBalancer | None = None, **kwargs: Any):
        if instance is not None:
            kwargs.setdefault("initial", {
                "name": instance.name, "server": instance.server_id, "conf_dir": instance.conf_dir,
                "log_dir": instance.log_dir, "test_command": instance.test_command,
                "reload_command": instance.reload_command,
            })
        super().__init__(*args, **kwargs)
        self.fields["server"].queryset = Server.objects.for_org(org).order_by("name")
        if instance is not None:  # the balancer's server is fixed: make a new balancer instead
            self.fields["server"].disabled = True

    def clean_conf_dir(self) -> str:
        return v.clean_dir(self.cleaned_data["conf_dir"])

    def clean_log_dir(self) -> str:
        return v.clean_dir(self.cleaned_data["log_dir"])


class BalancedSiteForm(forms.Form):
    """How one site is balanced, with one row of fields per server of the site."""

    method = forms.ChoiceField(choices=Method.choices)
    listen_port = forms.IntegerField(min_value=1, max_value=65535, initial=80)
    backend_port = forms.IntegerField(
        min_value=1, max_value=65535, initial=80, help_text="Where the web servers' nginx listens."
    )
    server_name = forms.CharField(
        max_length=253, required=False, help_text="Empty: the site's domain (or any host)."
    )
    # Rolling deploys (docs/load-balancing.md "Rolling deploys"); bounds as validators.py.
    # Optional: an empty field keeps the current value.
    batch_size = forms.IntegerField(required=False, min_value=1, max_value=50, initial=1,
                                    help_text="Servers switched at a time during a deploy.")
    drain_seconds = forms.IntegerField(
        required=False, min_value=0, max_value=300, initial=2,
        help_text="How long a drained server gets to finish its requests before it switches.")
    canary = forms.BooleanField(
        required=False, help_text="The first server comes back with a small weight and is "
        "watched; a 5xx rate above the threshold rolls everything back.")
    canary_weight = forms.IntegerField(required=False, min_value=1, max_value=100, initial=1)
    canary_seconds = forms.IntegerField(required=False, min_value=1, max_value=3600, initial=60,
                                        label="Canary watch (seconds)")
    canary_max_error_percent = forms.IntegerField(
        required=False, min_value=0, max_value=100, initial=5, label="Canary 5xx threshold (%)")

    def __init__(self, *args: Any, site: Site, entry: BalancedSite | None = None, **kwargs: Any):
        current = {b.server_id: b for b in entry.backends.all()} if entry else {}
        if entry is not None:
            kwargs.setdefault("initial", {
                "method": entry.method, "listen_port": entry.listen_port,
                "backend_port": entry.backend_port, "server_name": entry.server_name,
                **{name: getattr(entry, name) for name in v.ROLLING_FIELDS},
            })
        super().__init__(*args, **kwargs)
        self.servers = list(site.servers.order_by("name"))
        for server in self.servers:
            backend = current.get(server.pk)
            self._add_backend_fields(server, backend, first=entry is None)

    def _add_backend_fields(self, server: Server, backend: Any, *, first: bool) -> None:
        prefix = f"b{server.pk}_"
        self.fields[prefix + "use"] = forms.BooleanField(
            required=False, initial=first or backend is not None, label=f"{server.name}: use"
        )
        # Optional: only a used server's weight matters (empty means 1).
        self.fields[prefix + "weight"] = forms.IntegerField(
            min_value=1, max_value=100, initial=backend.weight if backend else 1, label="weight",
            required=False,
        )
        self.fields[prefix + "backup"] = forms.BooleanField(
            required=False, initial=bool(backend and backend.backup), label="backup"
        )
        self.fields[prefix + "drained"] = forms.BooleanField(
            required=False, initial=bool(backend and backend.drained), label="drained"
        )

    def backend_rows(self) -> list[dict[str, Any]]:
        """For the template: each server with its four bound fields."""
        parts = ("use", "weight", "backup", "drained")
        return [
            {"server": s, **{k: self[f"b{s.pk}_{k}"] for k in parts}} for s in self.servers
        ]

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        backends = [
            {"server": s.pk, "weight": data[f"b{s.pk}_weight"] or 1,
             "backup": data[f"b{s.pk}_backup"], "drained": data[f"b{s.pk}_drained"]}
            for s in self.servers if data.get(f"b{s.pk}_use")
        ]
        return {
            "method": data["method"], "listen_port": data["listen_port"],
            "backend_port": data["backend_port"], "server_name": data["server_name"],
            "backends": backends,
            "rolling": {name: data[name] for name in v.ROLLING_FIELDS
                        if data.get(name) is not None},
        }


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's refusal on the form: on its field when the form has one, else on top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)
