"""The organization's freeze windows, in the `freezes` namespace under /o/<org>/freezes/.
A site's windows are managed on the site page (sites/urls.py)."""

from __future__ import annotations

from django.urls import path

from sites import freeze_views

app_name = "freezes"
urlpatterns = [
    path("", freeze_views.org_freezes, name="list"),
    path("new/", freeze_views.org_freeze_create, name="create"),
    path("<int:window>/delete/", freeze_views.org_freeze_delete, name="delete"),
]
