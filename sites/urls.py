"""URLs of the sites app, mounted under /o/<org>/sites/ (namespace "sites")."""

from __future__ import annotations

from django.urls import path

from sites import views

app_name = "sites"
urlpatterns = [
    path("", views.site_list, name="list"),
    path("new/", views.site_create, name="create"),
    path("<int:pk>/", views.site_detail, name="detail"),
    path("<int:pk>/edit/", views.site_edit, name="edit"),
    path("<int:pk>/delete/", views.site_delete, name="delete"),
    path("<int:pk>/history/", views.site_history, name="history"),
    path("<int:pk>/deploy/", views.site_deploy, name="deploy"),
    path("<int:pk>/reconcile/", views.site_reconcile, name="reconcile"),
    path("<int:pk>/rollback/<str:release>/", views.site_rollback, name="rollback"),
]
