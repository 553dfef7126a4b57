"""A site's own pages (create, edit, delete), in the `sites` namespace under /o/<org>/sites/.

deploynix/site_urls.py mounts them with the site list, the site page and the deployment pages.
"""

from __future__ import annotations

from django.urls import path, re_path

from sites import env_views, freeze_views, views

urlpatterns = [
    path("new/", views.site_create, name="create"),
    path("<int:pk>/edit/", views.site_edit, name="edit"),
    path("<int:pk>/delete/", views.site_delete, name="delete"),
    path("<int:pk>/freezes/new/", freeze_views.site_freeze_create, name="freeze-create"),
    path("<int:pk>/freezes/<int:window>/delete/", freeze_views.site_freeze_delete,
         name="freeze-delete"),
    path("<int:pk>/environment/", env_views.site_environment, name="environment"),
    path("<int:pk>/environment/import/", env_views.site_environment_import,
         name="environment-import"),
    path("<int:pk>/hooks/", env_views.site_hooks, name="hooks"),
    re_path(r"^(?P<pk>[0-9]+)/env/(?P<name>[A-Za-z_][A-Za-z0-9_]{0,99})/reveal/$",
            views.site_env_reveal, name="env-reveal"),
    path("<int:pk>/workers/new/", views.worker_create, name="worker-create"),
    path("<int:pk>/workers/<int:worker_id>/edit/", views.worker_edit, name="worker-edit"),
    path("<int:pk>/workers/<int:worker_id>/delete/", views.worker_delete, name="worker-delete"),
]
