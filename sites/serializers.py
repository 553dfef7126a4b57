"""Site shapes for the REST API (sites/api.py). Secrets (environment values, tokens, webhook
secret) never leave; the site services validate values.

Two fields of a site are facts that apps above sites know: its hook URLs (webhooks) and what
its servers serve (deployments). sites imports neither: the project shell registers their
readers here (`site_fact_register`, in deploynix/api_urls.py), and deployments describes the
`truth` field's schema with an OpenAPI extension (deployments/serializers.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sites.models import Site
from sites.secrets import env_entries

SiteFact = Callable[[Site], Any]
SITE_FACTS: dict[str, SiteFact] = {}


def site_fact_register(name: str, read: SiteFact) -> None:
    """Let the field `name` of the site's representation show `read(site)`."""
    SITE_FACTS[name] = read


class SiteFactField(serializers.Field):
    """A read-only field whose value the reader registered under the field's name gives."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, site: Site) -> Any:
        return SITE_FACTS[self.field_name](site)


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
class WebhookUrlsField(SiteFactField):
    """The public hook URL per provider."""


class TruthField(SiteFactField):
    """What the site's servers serve, next to what the panel believes live."""


class EnvEntrySerializer(serializers.Serializer):
    name = serializers.CharField()
    secret = serializers.BooleanField()
    value = serializers.CharField(help_text="******** for a secret (reveal it on purpose: "
                                  "POST .../environment/reveal/) or without the view-secrets role.")


class SiteSerializer(serializers.ModelSerializer):
    """A site; context `show_plain` (the reader may see environment values) unmasks the
    values that are not secrets. Secret values are never in it."""

    servers = serializers.SerializerMethodField()
    env_names = serializers.SerializerMethodField()
    environment = serializers.SerializerMethodField()
    has_https_token = serializers.SerializerMethodField()
    webhook_urls = WebhookUrlsField()

    class Meta:
        model = Site
        fields = ["id", "name", "domain", "repository_url", "branch", "deploy_path", "web_dir",
                  "shared_dirs", "shared_files", "env_names", "environment",
                  "secret_env_names", "releases_to_keep", "preset",
                  "run_migrations", "build_commands", "deploy_script", "reload_method",
                  "reload_command", "servers", "auto_deploy", "deploy_key_public",
                  "repository_host_keys", "has_https_token", "webhook_urls", "created_at"]
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


class SiteDetailSerializer(SiteSerializer):
    truth = TruthField()

    class Meta(SiteSerializer.Meta):
        fields = [*SiteSerializer.Meta.fields, "truth"]
        read_only_fields = fields


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


class RevealInputSerializer(serializers.Serializer):
    name = serializers.RegexField(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


class RevealSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.CharField()
