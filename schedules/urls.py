"""URLs of the schedules app, mounted under /o/<org>/sites/<site_id>/schedules/."""

from __future__ import annotations

from django.urls import path

from schedules import views

app_name = "schedules"
urlpatterns = [
    path("", views.schedule_list, name="list"),
    path("new/", views.schedule_create, name="create"),
    path("cron-preview/", views.schedule_cron_preview, name="cron-preview"),
    path("<int:pk>/cancel/", views.schedule_cancel, name="cancel"),
]
