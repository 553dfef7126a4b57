"""URLs of the servers app, mounted under /o/<org>/servers/ (namespace "servers")."""

from __future__ import annotations

from django.urls import path

from servers import views

app_name = "servers"
urlpatterns = [
    path("", views.server_list, name="list"),
    path("new/", views.server_create, name="create"),
    path("ssh-key/", views.ssh_key, name="ssh-key"),
    path("setup-guide/", views.setup_guide, name="setup-guide"),
    path("ssh-key/rotate/", views.ssh_key_rotate, name="ssh-key-rotate"),
    path("<int:pk>/", views.server_detail, name="detail"),
    path("<int:pk>/edit/", views.server_edit, name="edit"),
    path("<int:pk>/delete/", views.server_delete, name="delete"),
    path("<int:pk>/check/", views.server_check, name="check"),
    path("<int:pk>/repin/", views.server_repin, name="repin"),
]
