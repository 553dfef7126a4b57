"""Load-balancer shapes for the REST API (loadbalancers/api.py). Rules live in the services."""

from __future__ import annotations

from rest_framework import serializers

from loadbalancers.models import Backend, BalancedSite, LoadBalancer, Method


class BackendSerializer(serializers.ModelSerializer):
    server_name = serializers.CharField(source="server.name", read_only=True)

    class Meta:
        model = Backend
        fields = ["server", "server_name", "weight", "backup", "drained"]
        read_only_fields = fields


class BalancedSiteSerializer(serializers.ModelSerializer):
    site_name = serializers.CharField(source="site.name", read_only=True)
    backends = BackendSerializer(many=True, read_only=True)

    class Meta:
        model = BalancedSite
        fields = ["site", "site_name", "method", "listen_port", "backend_port", "server_name",
                  "batch_size", "drain_seconds", "canary", "canary_weight", "canary_seconds",
                  "canary_max_error_percent", "backends"]
        read_only_fields = fields


class LoadBalancerSerializer(serializers.ModelSerializer):
    sites = BalancedSiteSerializer(many=True, read_only=True)

    class Meta:
        model = LoadBalancer
        fields = ["id", "name", "server", "conf_dir", "log_dir", "test_command", "reload_command",
                  "apply_status", "applied_at", "apply_output", "checked_at", "check_findings",
                  "sites", "created_at"]
        read_only_fields = fields


class LoadBalancerInputSerializer(serializers.Serializer):
    """Writable balancer fields; partial for PATCH (the server is chosen at creation only)."""

    name = serializers.CharField(max_length=100)
    server = serializers.IntegerField()
    conf_dir = serializers.CharField(max_length=300, required=False)
    log_dir = serializers.CharField(max_length=300, required=False)
    test_command = serializers.ListField(child=serializers.CharField(), required=False)
    reload_command = serializers.ListField(child=serializers.CharField(), required=False)


class BackendInputSerializer(serializers.Serializer):
    server = serializers.IntegerField()
    weight = serializers.IntegerField(default=1)
    backup = serializers.BooleanField(default=False)
    drained = serializers.BooleanField(default=False)


class BalancedSiteInputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=Method.choices, default=Method.ROUND_ROBIN)
    listen_port = serializers.IntegerField(default=80)
    backend_port = serializers.IntegerField(default=80)
    server_name = serializers.CharField(max_length=253, required=False, allow_blank=True,
                                        default="")
    backends = BackendInputSerializer(many=True, max_length=100)
    # Rolling deploy options (bounds: loadbalancers/validators.py ROLLING_BOUNDS); omitted: kept.
    batch_size = serializers.IntegerField(required=False)
    drain_seconds = serializers.IntegerField(required=False)
    canary = serializers.BooleanField(required=False)
    canary_weight = serializers.IntegerField(required=False)
    canary_seconds = serializers.IntegerField(required=False)
    canary_max_error_percent = serializers.IntegerField(required=False)
