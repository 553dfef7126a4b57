"""WebSocket routes. Each app adds its consumers here."""

from __future__ import annotations

websocket_urlpatterns: list = []
