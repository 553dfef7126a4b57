"""The site form: every setting, validated by sites.validators (the services validate again)."""

from __future__ import annotations

import shlex

from django import forms
from django.core.exceptions import ValidationError

from servers.models import Server
from sites import validators as v
from sites.environment import MAX_DOTENV_CHARS, parse_dotenv
from sites.models import (
    APPROVAL_HOURS_DEFAULT,
    APPROVAL_HOURS_MAX,
    DEFAULT_RELOAD_COMMAND,
    GATE_FIELDS,
    HEALTH_ADDRESS,
    HEALTH_BODY,
    HEALTH_CHECK_FIELDS,
    HEALTH_PATH,
    HEALTH_TIMEOUT_MAX,
    Site,
    Worker,
)
from sites.presets import PRESETS, preset_or_default
from tenancy.roles import APPROVAL_ROLES

# The form's groups, in order: (anchor, heading, one line on what the group is about, fields).
# A visible field no group names is shown under "More" (never silently dropped).
SECTIONS = (
    ("site", "Site", "What it is called and where it runs.", ("name", "domain", "servers")),
    ("repository", "Repository", "Where the code comes from and how Deploynix reaches it.",
     ("repository_url", "branch", "auto_deploy", "repository_host_keys", "https_token",
      "remove_https_token")),
    ("paths", "Paths", "Where releases live on each server and what they share.",
     ("deploy_path", "web_dir", "shared_dirs", "shared_files")),
    ("environment", "Environment", "The application's .env, stored encrypted.",
     ("env", "secret_env_names")),
    ("build", "Build", "What runs inside each new release before it goes live.",
     ("preset", "run_migrations", "build_commands", "deploy_script")),
    ("release", "Release", "How a release goes live and how many are kept.",
     ("reload_method", "reload_command", "releases_to_keep")),
)
WIDE_WIDGETS = (forms.Textarea, forms.CheckboxSelectMultiple)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _raw_lines(text: str) -> list[str]:
    """Non-blank lines as typed: a path with spaces around it is refused, not trimmed."""
    return [line for line in (text or "").splitlines() if line.strip()]


class SiteForm(forms.Form):
    """Create or edit a site. `cleaned_data` (minus `servers`) are site_create/update kwargs."""

    name = forms.CharField(max_length=100)
    domain = forms.CharField(max_length=253, required=False)
    repository_url = forms.CharField(
        label="Repository URL", max_length=500,
        help_text="git@github.com:owner/repo.git, ssh://… or https://…",
    )
    branch = forms.CharField(max_length=200, initial="main")
    deploy_path = forms.CharField(max_length=500, help_text="Absolute, e.g. /srv/shop")
    web_dir = forms.CharField(
        label="Web directory", max_length=200, initial="public", required=False,
        help_text="Served directory, relative to the release (empty: the release itself).",
    )
    servers = forms.ModelMultipleChoiceField(
        queryset=Server.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    shared_dirs = forms.CharField(
        label="Shared directories", widget=forms.Textarea(attrs={"rows": 2}), required=False,
        initial="storage", strip=False, max_length=20_000,
        help_text="One per line; kept across releases in shared/.",
    )
    shared_files = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, initial=".env",
        strip=False, max_length=20_000,
        help_text="One per line.",
    )
    # Only when creating: afterwards the environment has its own editor (sites/env_views.py).
    env = forms.CharField(
        max_length=MAX_DOTENV_CHARS,
        label="Environment", widget=forms.Textarea(attrs={"rows": 6}), required=False,
        help_text="Paste a .env (NAME=value per line), or leave empty and use the site's "
        "environment editor. Stored encrypted; each deploy writes it into its release.",
    )
    secret_env_names = forms.CharField(
        label="Secret variables", widget=forms.Textarea(attrs={"rows": 2}), required=False,
        max_length=25_000,
        help_text="Names (one per line) to treat as secret besides *_KEY, *PASSWORD*, *TOKEN*, "
        "*SECRET* and random-looking values: masked on pages, hidden in deploy logs.",
    )
    preset = forms.ChoiceField(choices=Site.Preset.choices, initial=Site.Preset.LARAVEL)
    run_migrations = forms.BooleanField(
        required=False, initial=True, help_text="Laravel: php artisan migrate --force."
    )
    build_commands = forms.CharField(
        max_length=110_000,
        widget=forms.Textarea(attrs={"rows": 3}), required=False,
        help_text="Extra commands, one per line, run in the release with bash -eo pipefail.",
    )
    deploy_script = forms.CharField(
        max_length=65_536,
        widget=forms.Textarea(attrs={"rows": 5}), required=False,
        help_text="Runs before activation; RELEASE_PATH, COMMIT and BRANCH are set.",
    )
    reload_method = forms.ChoiceField(choices=Site.ReloadMethod.choices, initial="php-fpm")
    reload_command = forms.CharField(
        max_length=5_000,
        required=False, initial=shlex.join(DEFAULT_RELOAD_COMMAND),
        help_text="For PHP-FPM: the command (run as a program, not through a shell).",
    )
    releases_to_keep = forms.IntegerField(min_value=1, max_value=50, initial=5)
    auto_deploy = forms.BooleanField(required=False, help_text="Deploy on every push (webhook).")
    repository_host_keys = forms.CharField(
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 3}), required=False,
        help_text="known_hosts lines of the git host (e.g. from ssh-keyscan, checked by you).",
    )
    https_token = forms.CharField(
        max_length=1_000,
        label="HTTPS access token", required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Only for https:// repositories. Leave empty to keep the current one.",
    )
    remove_https_token = forms.BooleanField(required=False, label="Remove the stored token")
    # The health check section (site_form.html shows these fields under their own heading).
    health_check_enabled = forms.BooleanField(
        label="Gate the switch on a health check", required=False,
        help_text="Each deploy asks the new release for the path before any switch, and the "
        "live site after each server's switch; an unhealthy answer keeps the old release.",
    )
    health_check_path = forms.CharField(
        label="Path", max_length=200, initial="/", required=False, validators=[HEALTH_PATH]
    )
    health_check_status = forms.IntegerField(
        label="Expected status", min_value=100, max_value=599, initial=200, required=False
    )
    health_check_body = forms.CharField(
        label="Body must contain", max_length=200, required=False, validators=[HEALTH_BODY],
        help_text="Optional text the answer must include (searched in its first 64 KiB).",
    )
    health_check_timeout = forms.IntegerField(
        label="Timeout (seconds)", min_value=1, max_value=HEALTH_TIMEOUT_MAX, initial=5,
        required=False,
    )
    health_check_scheme = forms.ChoiceField(
        label="Scheme", choices=[("http", "http"), ("https", "https")], initial="http",
        required=False,
    )
    health_check_address = forms.CharField(
        label="Web server address", max_length=253, required=False, validators=[HEALTH_ADDRESS],
        help_text="Where each server's web server answers the live probe, which runs on the "
        "server itself (e.g. 127.0.0.1). Empty: the server's address. The Host header is the "
        "site's domain.",
    )
    health_check_port = forms.IntegerField(
        label="Port", min_value=1, max_value=65535, initial=80, required=False
    )

    # The approval section: only for members who may set a site's gates (Cap.SITE_GATES).
    approval_role = forms.TypedChoiceField(
        label="Deploys need approval by", required=False, coerce=int, empty_value=None,
        choices=[("", "Nobody (no approval)"), *[(r.value, f"{r.label} or higher")
                                                 for r in APPROVAL_ROLES]],
        help_text="A member of this role or higher, never the one who asked, approves each "
        "deploy before it is queued (pushes and schedules too).",
    )
    approval_hours = forms.IntegerField(
        label="Approval expires after (hours)", min_value=1, max_value=APPROVAL_HOURS_MAX,
        initial=APPROVAL_HOURS_DEFAULT, required=False, help_text="Empty: 24 hours.",
    )

    def __init__(self, *args, org, site: Site | None = None, preset: str | None = None,
                 gates: bool = False, **kwargs) -> None:
        if site is not None:
            kwargs.setdefault("initial", initial_for(site))
        else:  # a new site starts from its preset's defaults (sites/presets.py)
            name = preset_or_default(preset)
            kwargs.setdefault("initial", {"preset": name, **PRESETS[name].defaults})
        super().__init__(*args, **kwargs)
        self.site = site
        self.fields["servers"].queryset = Server.objects.for_org(org).order_by("name")
        if site is None:
            del self.fields["remove_https_token"]
        else:  # edited in the environment editor, as versions
            del self.fields["env"], self.fields["secret_env_names"]
        if not gates:
            for name in GATE_FIELDS:
                del self.fields[name]

    def sections(self) -> list[dict]:
        """The groups to show, each with its bound fields as (field, spans the whole row)."""
        shown = {f.name: f for f in self.visible_fields()
                 if f.name not in HEALTH_CHECK_FIELDS and f.name not in GATE_FIELDS}
        groups = []
        for anchor, title, intro, names in SECTIONS:
            fields = [shown.pop(name) for name in names if name in shown]
            groups.append({"anchor": anchor, "title": title, "intro": intro, "fields": fields})
        if shown:
            groups.append({"anchor": "more", "title": "More", "intro": "",
                           "fields": list(shown.values())})
        for group in groups:
            group["fields"] = [(f, isinstance(f.field.widget, WIDE_WIDGETS))
                               for f in group["fields"]]
        return groups

    def general_fields(self) -> list:
        """The visible fields outside the health check and approval sections."""
        return [f for f in self.visible_fields()
                if f.name not in HEALTH_CHECK_FIELDS and f.name not in GATE_FIELDS]

    def gate_fields(self) -> list:
        """The approval section's fields (none for a member who may not set them)."""
        return [f for f in self.visible_fields() if f.name in GATE_FIELDS]

    def health_fields(self) -> list:
        """The health check section's fields, in order."""
        return [f for f in self.visible_fields() if f.name in HEALTH_CHECK_FIELDS]

    def clean_repository_url(self) -> str:
        return v.clean_repository_url(self.cleaned_data["repository_url"])

    def clean_branch(self) -> str:
        return v.clean_branch(self.cleaned_data["branch"])

    def clean_deploy_path(self) -> str:
        return v.clean_deploy_path(self.cleaned_data["deploy_path"])

    def clean_web_dir(self) -> str:
        return v.clean_relative_path(
            self.cleaned_data["web_dir"], what="web directory", allow_root=True
        )

    def clean_env(self) -> dict[str, str]:
        return parse_dotenv(self.cleaned_data["env"])

    def clean_secret_env_names(self) -> list[str]:
        return v.clean_secret_env_names(_lines(self.cleaned_data["secret_env_names"]))

    def clean_build_commands(self) -> list[str]:
        return v.clean_build_commands(_lines(self.cleaned_data["build_commands"]))

    def clean_reload_command(self) -> list[str]:
        try:
            return shlex.split(self.cleaned_data["reload_command"] or "")
        except ValueError as exc:
            raise ValidationError(f"Cannot split the command: {exc}") from None

    def clean_repository_host_keys(self) -> str:
        return v.clean_known_hosts(self.cleaned_data["repository_host_keys"])

    def clean(self) -> dict:
        data = super().clean()
        try:
            data["shared_dirs"], data["shared_files"] = v.clean_shared_paths(
                _raw_lines(data.get("shared_dirs", "")), _raw_lines(data.get("shared_files", ""))
            )
        except ValidationError as exc:
            self.add_error("shared_dirs", exc)
        for name in HEALTH_CHECK_FIELDS:  # a field left empty keeps the model's default
            if name in data and data[name] in (None, ""):
                data[name] = Site._meta.get_field(name).get_default()
        if data.get("reload_method") == Site.ReloadMethod.PHP_FPM and "reload_command" in data:
            try:
                v.clean_reload_command(data["reload_command"])
            except ValidationError as exc:
                self.add_error("reload_command", exc)
        return data

    def site_fields(self) -> dict:
        """The cleaned values as service keyword arguments (servers separate, token rules)."""
        data = dict(self.cleaned_data)
        data.pop("servers")
        remove = data.pop("remove_https_token", False)
        if remove:
            data["https_token"] = ""
        elif not data.get("https_token"):
            data.pop("https_token", None)  # empty field: keep the stored token
        return data


def initial_for(site: Site) -> dict:
    """Form values showing `site` as it is (never the token; secret values masked)."""
    return {
        "name": site.name, "domain": site.domain, "repository_url": site.repository_url,
        "branch": site.branch, "deploy_path": site.deploy_path, "web_dir": site.web_dir,
        "servers": list(site.servers.all()), "shared_dirs": "\n".join(site.shared_dirs),
        "shared_files": "\n".join(site.shared_files),
        "preset": site.preset, "run_migrations": site.run_migrations,
        "build_commands": "\n".join(site.build_commands), "deploy_script": site.deploy_script,
        "reload_method": site.reload_method, "reload_command": shlex.join(site.reload_command),
        "releases_to_keep": site.releases_to_keep, "auto_deploy": site.auto_deploy,
        "repository_host_keys": site.repository_host_keys,
        **{name: getattr(site, name) for name in HEALTH_CHECK_FIELDS},
        "approval_role": site.approval_role, "approval_hours": site.approval_hours,
    }


class WorkerForm(forms.Form):
    """Add or edit a worker; `cleaned_data` are worker_create/update kwargs."""

    name = forms.CharField(
        max_length=v.WORKER_NAME_MAX, validators=[v.WORKER_NAME],
        help_text="Lower-case letters, digits and -, e.g. queue or octane.",
    )
    kind = forms.ChoiceField(choices=Worker.Kind.choices, initial=Worker.Kind.COMMAND)
    command = forms.CharField(
        max_length=v.WORKER_COMMAND_MAX, required=False,
        widget=forms.TextInput(attrs={"spellcheck": "false", "class": "mono"}),
        help_text="Run from the deploy path's current/ without a shell, e.g. php artisan "
        "queue:work --sleep=3 --tries=3 (for shell syntax: bash -c '…'). An Octane server "
        "without one runs php artisan octane:start.",
    )
    octane_server = forms.ChoiceField(
        label="Octane server", choices=Worker.OctaneServer.choices, required=False,
        initial=Worker.OctaneServer.FRANKENPHP, help_text="Only for an Octane server.",
    )
    octane_port = forms.IntegerField(
        label="Octane port", min_value=v.OCTANE_PORT_MIN, max_value=v.OCTANE_PORT_MAX,
        initial=8000, required=False,
        help_text="Only for an Octane server without a command: it listens on 127.0.0.1 here.",
    )
    processes = forms.IntegerField(min_value=1, max_value=v.WORKER_PROCESSES_MAX, initial=1)
    stop_wait_seconds = forms.IntegerField(
        label="Stop wait (seconds)", min_value=1, max_value=v.WORKER_STOP_WAIT_MAX, initial=10,
        help_text="How long a stopping worker may finish its job before it is killed.",
    )

    @classmethod
    def for_worker(cls, worker: Worker, data=None) -> WorkerForm:
        """The form pre-filled with `worker`'s values."""
        initial = {name: getattr(worker, name) for name in cls.base_fields}
        return cls(data, initial=initial)

    def clean_command(self) -> str:
        required = self.cleaned_data.get("kind") != Worker.Kind.OCTANE
        return v.clean_worker_command(self.cleaned_data["command"], required=required)

    def clean_octane_server(self) -> str:
        return self.cleaned_data["octane_server"] or Worker.OctaneServer.FRANKENPHP

    def clean_octane_port(self) -> int:
        return self.cleaned_data["octane_port"] or 8000
