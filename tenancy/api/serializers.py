"""API token shapes (tenancy/api/tokens.py). Validation itself lives in the services.

Each app keeps its own shapes in `<app>/serializers.py`."""

from __future__ import annotations

from rest_framework import serializers

from tenancy.models import Ability, ApiToken


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
