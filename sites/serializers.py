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

from sites.models import HEALTH_CHECK_FIELDS, HEALTH_TIMEOUT_MAX, Site

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


class SiteSerializer(serializers.ModelSerializer):
    servers = serializers.SerializerMethodField()
    env_names = serializers.SerializerMethodField()
    has_https_token = serializers.SerializerMethodField()
    webhook_urls = WebhookUrlsField()

    class Meta:
        model = Site
        fields = ["id", "name", "domain", "repository_url", "branch", "deploy_path", "web_dir",
                  "shared_dirs", "shared_files", "env_names", "releases_to_keep", "preset",
                  "run_migrations", "build_commands", "deploy_script", "reload_method",
                  "reload_command", "servers", "auto_deploy", "deploy_key_public",
                  "repository_host_keys", "has_https_token", "webhook_urls", "created_at",
                  *HEALTH_CHECK_FIELDS]
        read_only_fields = fields

    def get_servers(self, site: Site) -> list[int]:
        # Reads the prefetched relation; .values_list would query once per site.
        return sorted(server.pk for server in site.servers.all())

    def get_env_names(self, site: Site) -> list[str]:
        return site.env_names

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
    shared_dirs = serializers.ListField(child=serializers.CharField(), required=False)
    shared_files = serializers.ListField(child=serializers.CharField(), required=False)
    env = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False, help_text="Replaces the whole environment.",
    )
    releases_to_keep = serializers.IntegerField(required=False)
    preset = serializers.ChoiceField(choices=Site.Preset.choices, required=False)
    run_migrations = serializers.BooleanField(required=False)
    build_commands = serializers.ListField(child=serializers.CharField(), required=False)
    deploy_script = serializers.CharField(allow_blank=True, trim_whitespace=False, required=False)
    reload_method = serializers.ChoiceField(choices=Site.ReloadMethod.choices, required=False)
    reload_command = serializers.ListField(child=serializers.CharField(), required=False)
    auto_deploy = serializers.BooleanField(required=False)
    repository_host_keys = serializers.CharField(allow_blank=True, required=False)
    https_token = serializers.CharField(allow_blank=True, required=False)
    servers = serializers.ListField(child=serializers.IntegerField(), required=False)
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
