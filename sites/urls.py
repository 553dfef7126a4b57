"""URLs of the sites app, mounted under /o/<org>/sites/ (namespace "sites")."""

from __future__ import annotations

app_name = "sites"
urlpatterns: list = []
