"""Site shapes for the REST API. Secrets (environment values, tokens, webhook secret) never
leave; the site services validate values.

`SiteBaseSerializer` is the site's own fields. The representation the API sends adds facts
that apps above sites know (its hook URLs, what its servers serve), so it is composed in the
project shell, which may import them all (deploynix/site_api.py).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sites.models import (
    APPROVAL_HOURS_MAX,
    GATE_FIELDS,
    HEALTH_CHECK_FIELDS,
    HEALTH_TIMEOUT_MAX,
    Site,
    SiteHook,
    Worker,
)
from sites.secrets import env_entries
from sites.validators import (
    DEFAULT_HOOK_TIMEOUT,
    MAX_DEPLOY_SCRIPT,
    MAX_HOOK_TIMEOUT,
    OCTANE_PORT_MAX,
    OCTANE_PORT_MIN,
    WORKER_COMMAND_MAX,
    WORKER_NAME_MAX,
    WORKER_PROCESSES_MAX,
    WORKER_STOP_WAIT_MAX,
)
from tenancy.roles import APPROVAL_ROLES

# The site's own fields, in the order the API sends them (deploynix/site_api.py adds its hook
# URLs before `created_at`; the health check's fields come last).
OWN_FIELDS = ["id", "name", "domain", "repository_url", "branch", "deploy_path", "web_dir",
              "shared_dirs", "shared_files", "env_names", "environment", "secret_env_names",
              "releases_to_keep", "preset",
              "run_migrations", "build_commands", "deploy_script", "reload_method",
              "reload_command", "servers", "auto_deploy", "deploy_key_public",
              "repository_host_keys", "has_https_token", "created_at",
              *HEALTH_CHECK_FIELDS, *GATE_FIELDS]
# Setting these needs Cap.SITE_GATES (Manager+), not only site:write (sites/api.py).


class EnvEntrySerializer(serializers.Serializer):
    name = serializers.CharField()
    secret = serializers.BooleanField()
    value = serializers.CharField(help_text="******** for a secret (reveal it on purpose: "
                                  "POST .../environment/reveal/) or without the view-secrets role.")


# The site's own fields; the API sends deploynix/site_api.py's SiteSerializer. (No docstring:
# drf-spectacular would make it the schema's description of every subclass.)
class SiteBaseSerializer(serializers.ModelSerializer):
    servers = serializers.SerializerMethodField()
    env_names = serializers.SerializerMethodField()
    # Context `show_plain` (the reader may see environment values) unmasks the values that are
    # not secrets. Secret values are never in it.
    environment = serializers.SerializerMethodField()
    has_https_token = serializers.SerializerMethodField()

    class Meta:
        model = Site
        fields = OWN_FIELDS
        read_only_fields = fields

    def get_servers(self, site: Site) -> list[int]:
        # Reads the prefetched relation; .values_list would query once per site.
        return sorted(server.pk for server in site.servers.all())

    def get_env_names(self, site: Site) -> list[str]:
        return site.env_names

    @extend_schema_field(EnvEntrySerializer(many=True))
    def get_environment(self, site: Site) -> list[dict]:
        entries = env_entries(site.env, site.secret_env_names,
                              show_plain=self.context.get("show_plain", False))
        return [{"name": e.name, "secret": e.secret, "value": e.value} for e in entries]

    def get_has_https_token(self, site: Site) -> bool:
        return bool(site.https_token)


class SiteInputSerializer(serializers.Serializer):
    """Types only; the site services validate values (and may refuse with field errors)."""

    name = serializers.CharField(max_length=100)
    domain = serializers.CharField(max_length=253, allow_blank=True, required=False)
    repository_url = serializers.CharField(max_length=500)
    branch = serializers.CharField(max_length=200, required=False)
    deploy_path = serializers.CharField(max_length=500)
    web_dir = serializers.CharField(max_length=200, allow_blank=True, required=False)
    # Not trimmed: the validators refuse a path with spaces around it (and bound the count).
    shared_dirs = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False, max_length=255), required=False,
        max_length=50,
    )
    shared_files = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False, max_length=255), required=False,
        max_length=50,
    )
    env = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=8_192),
        required=False,
        help_text="Replaces the whole environment; a value of ******** keeps the stored one.",
    )
    secret_env_names = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=200,
        help_text="Variables to treat as secret besides those recognised by name or entropy.",
    )
    releases_to_keep = serializers.IntegerField(required=False)
    preset = serializers.ChoiceField(choices=Site.Preset.choices, required=False)
    run_migrations = serializers.BooleanField(required=False)
    build_commands = serializers.ListField(
        child=serializers.CharField(max_length=2_000), required=False, max_length=50
    )
    deploy_script = serializers.CharField(
        allow_blank=True, trim_whitespace=False, required=False, max_length=65_536
    )
    reload_method = serializers.ChoiceField(choices=Site.ReloadMethod.choices, required=False)
    reload_command = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False, max_length=20
    )
    auto_deploy = serializers.BooleanField(required=False)
    repository_host_keys = serializers.CharField(
        allow_blank=True, required=False, max_length=50_000
    )
    https_token = serializers.CharField(allow_blank=True, required=False, max_length=1_000)
    servers = serializers.ListField(
        child=serializers.IntegerField(), required=False, max_length=100
    )
    health_check_enabled = serializers.BooleanField(required=False)
    health_check_path = serializers.CharField(max_length=200, required=False)
    health_check_status = serializers.IntegerField(min_value=100, max_value=599, required=False)
    health_check_body = serializers.CharField(
        max_length=200, allow_blank=True, trim_whitespace=False, required=False,
        help_text="Text the answer's body must contain (empty: any body).",
    )
    health_check_timeout = serializers.IntegerField(
        min_value=1, max_value=HEALTH_TIMEOUT_MAX, required=False, help_text="Seconds."
    )
    health_check_scheme = serializers.ChoiceField(choices=["http", "https"], required=False)
    health_check_address = serializers.CharField(
        max_length=253, allow_blank=True, required=False,
        help_text="Where each server's web server answers the live probe (empty: the server's "
        "address).",
    )
    health_check_port = serializers.IntegerField(min_value=1, max_value=65535, required=False)
    approval_role = serializers.ChoiceField(
        choices=[r.value for r in APPROVAL_ROLES], allow_null=True, required=False,
        help_text="Deploys wait for approval by a member of this role (40 Developer, 60 Manager, "
        "80 Admin, 100 Owner) or higher, never the requester; null: no approval. Manager+.",
    )
    approval_hours = serializers.IntegerField(
        min_value=1, max_value=APPROVAL_HOURS_MAX, required=False, allow_null=True,
        help_text="An unanswered approval request expires after this many hours (null: 24). "
        "Manager+.",
    )


class RevealInputSerializer(serializers.Serializer):
    name = serializers.RegexField(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


class RevealSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.CharField()


class WorkerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Worker
        fields = ["id", "name", "kind", "octane_server", "octane_port", "command", "processes",
                  "stop_wait_seconds", "created_at"]
        read_only_fields = fields


class WorkerInputSerializer(serializers.Serializer):
    """Types and bounds; the worker services validate values (field errors on refusal)."""

    name = serializers.CharField(max_length=WORKER_NAME_MAX)
    kind = serializers.ChoiceField(choices=Worker.Kind.choices, required=False)
    octane_server = serializers.ChoiceField(choices=Worker.OctaneServer.choices, required=False)
    octane_port = serializers.IntegerField(min_value=OCTANE_PORT_MIN, max_value=OCTANE_PORT_MAX,
                                           required=False)
    command = serializers.CharField(max_length=WORKER_COMMAND_MAX, allow_blank=True,
                                    required=False)
    processes = serializers.IntegerField(min_value=1, max_value=WORKER_PROCESSES_MAX,
                                         required=False)
    stop_wait_seconds = serializers.IntegerField(min_value=1, max_value=WORKER_STOP_WAIT_MAX,
                                                 required=False)


class SiteHookSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()

    class Meta:
        model = SiteHook
        fields = ["point", "label", "script", "timeout"]
        read_only_fields = fields

    def get_label(self, hook: SiteHook) -> str:
        return SiteHook.Point(hook.point).label


class SiteHookInputSerializer(serializers.Serializer):
    """Types and bounds; sites.services.site_hooks_update validates the script again."""

    point = serializers.ChoiceField(choices=SiteHook.Point.choices)
    script = serializers.CharField(max_length=MAX_DEPLOY_SCRIPT, trim_whitespace=False,
                                   help_text="bash, run with -eo pipefail in the release.")
    timeout = serializers.IntegerField(min_value=1, max_value=MAX_HOOK_TIMEOUT,
                                       default=DEFAULT_HOOK_TIMEOUT, help_text="Seconds.")
