"""URLs of the deployments app, mounted under /o/<org>/deployments/ (namespace "deployments")."""

from __future__ import annotations

from django.urls import path

from deployments import views, views_live

app_name = "deployments"
urlpatterns = [
    path("", views.deployment_list, name="list"),
    path("<int:pk>/", views.deployment_detail, name="detail"),
    path("<int:pk>/cancel/", views.deployment_cancel_view, name="cancel"),
    path("<int:pk>/props/", views.deployment_props, name="props"),
    path("<int:pk>/log.txt", views_live.log_download, name="log-download"),
]
