"""A site's own pages (create, edit, delete), in the `sites` namespace under /o/<org>/sites/.

deploynix/site_urls.py mounts them with the site list, the site page and the deployment pages.
"""

from __future__ import annotations

from django.urls import path

from sites import views

urlpatterns = [
    path("new/", views.site_create, name="create"),
    path("<int:pk>/edit/", views.site_edit, name="edit"),
    path("<int:pk>/delete/", views.site_delete, name="delete"),
]
