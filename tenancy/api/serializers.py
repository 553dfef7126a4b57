"""Output shapes (and input fields, for the schema). Validation itself lives in the services."""

from __future__ import annotations

from rest_framework import serializers

from servers.models import OrganizationKey, Server
from tenancy.models import Ability, ApiToken


class SSHKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = OrganizationKey
        fields = ["public_key", "fingerprint", "created_at"]


class ServerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Server
        fields = ["id", "name", "host", "port", "user", "status", "host_key_fingerprint",
                  "last_checked_at", "last_check_error", "created_at"]
        read_only_fields = fields


class ServerInputSerializer(serializers.Serializer):
    """The writable server fields; partial for PATCH."""

    name = serializers.CharField(max_length=100)
    host = serializers.CharField(max_length=253)
    port = serializers.IntegerField(default=22)
    user = serializers.CharField(max_length=32, default="root")


class ApiTokenSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "organization", "prefix", "abilities", "expires_at",
                  "last_used_at", "created_at", "revoked_at"]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    organization = serializers.SlugField(help_text="The organization's slug.")
    name = serializers.CharField(max_length=100)
    abilities = serializers.ListField(child=serializers.ChoiceField(choices=Ability.choices))
    expires_in_days = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                               max_value=3650)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(help_text="The token itself. Shown this once; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
