"""Webhook shapes for the REST API (webhooks/api.py)."""

from __future__ import annotations

from rest_framework import serializers


class WebhookInfoSerializer(serializers.Serializer):
    urls = serializers.DictField(child=serializers.URLField(), help_text="Per provider.")
    secret = serializers.CharField(help_text="Sign deliveries with this (Developer+ only).")
