"""Mounted at the top level with `path("hooks/", include("webhooks.urls"))`."""

from __future__ import annotations

from django.urls import path

from webhooks.views import webhook

urlpatterns = [
    path("<uuid:site_uuid>/<str:provider>", webhook, name="webhook"),
]
