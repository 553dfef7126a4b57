"""URLs of the notifications app, mounted under /o/<org>/notifications/."""

from __future__ import annotations

from django.urls import path

from notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.org_channels, name="org"),
    path("new/", views.org_channel_create, name="org-create"),
    path("sites/<int:site_id>/", views.site_channels, name="site"),
    path("sites/<int:site_id>/new/", views.site_channel_create, name="site-create"),
    path("<int:pk>/edit/", views.channel_edit, name="edit"),
    path("<int:pk>/delete/", views.channel_delete, name="delete"),
    path("<int:pk>/rotate-secret/", views.channel_rotate_secret, name="rotate-secret"),
    path("<int:pk>/test/", views.channel_test, name="test"),
]
