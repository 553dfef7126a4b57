"""URLs of the servers app, mounted under /o/<org>/servers/ (namespace "servers")."""

from __future__ import annotations

app_name = "servers"
urlpatterns: list = []
