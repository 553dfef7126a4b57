"""Server and SSH key shapes for the REST API (servers/api.py). Validation lives in the services."""

from __future__ import annotations

from rest_framework import serializers

from servers.models import OrganizationKey, Server


class SSHKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = OrganizationKey
        fields = ["public_key", "fingerprint", "created_at"]


class ServerSerializer(serializers.ModelSerializer):
    supervisor_config = serializers.CharField(source="supervisor_config_path", read_only=True)

    class Meta:
        model = Server
        fields = ["id", "name", "host", "port", "user", "deploy_roots", "supervisor_config",
                  "status",
                  "host_key_fingerprint",
                  "last_checked_at", "last_check_error", "created_at"]
        read_only_fields = fields


class ServerInputSerializer(serializers.Serializer):
    """The writable server fields; partial for PATCH."""

    name = serializers.CharField(max_length=100)
    host = serializers.CharField(max_length=253)
    port = serializers.IntegerField(default=22)
    user = serializers.CharField(max_length=32, default="root")
    deploy_roots = serializers.ListField(
        child=serializers.CharField(max_length=255), max_length=10, required=False,
        help_text="Directories sites may live under ('~': the SSH user's home); "
        "empty: the installation's default.",
    )
    supervisor_config = serializers.CharField(
        max_length=255, required=False,
        help_text="The supervisord.conf whose conf.d/ gets the sites' worker programs.",
    )
