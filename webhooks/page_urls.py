"""Mounted with `path("o/<slug:org>/sites/<int:pk>/webhook/", include(...))`."""

from __future__ import annotations

from django.urls import path

from webhooks.pages import webhook_reveal, webhook_rotate, webhook_settings

urlpatterns = [
    path("", webhook_settings, name="site-webhook"),
    path("rotate/", webhook_rotate, name="site-webhook-rotate"),
    path("reveal/", webhook_reveal, name="site-webhook-reveal"),
]
