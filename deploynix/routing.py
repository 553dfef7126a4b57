"""WebSocket routes. Each app adds its consumers here."""

from __future__ import annotations

from django.urls import path

from deployments.consumers import DeploymentLogConsumer
from deploynix.consumers import OrgStatusConsumer

websocket_urlpatterns: list = [
    path("ws/deployments/<int:deployment_id>/", DeploymentLogConsumer.as_asgi()),
    path("ws/orgs/<slug:org>/", OrgStatusConsumer.as_asgi()),
]
