"""URLs of the deployments app, mounted under /o/<org>/deployments/ (namespace "deployments")."""

from __future__ import annotations

app_name = "deployments"
urlpatterns: list = []
