"""URLs of the notifications app, mounted under /o/<org>/notifications/."""

from __future__ import annotations

app_name = "notifications"
urlpatterns: list = []
