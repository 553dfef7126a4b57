"""URLs of the deployments app, mounted under /o/<org>/deployments/ (namespace "deployments").

`site_urlpatterns` are a site's deployment pages, mounted in the `sites` namespace under
/o/<org>/sites/ by deploynix/site_urls.py.
"""

from __future__ import annotations

from django.urls import path

from deployments.views import approval as approval_views
from deployments.views import deployment as views
from deployments.views import log as log_views
from deployments.views import site as site_views

app_name = "deployments"
urlpatterns = [
    path("", views.deployment_list, name="list"),
    path("<int:pk>/", views.deployment_detail, name="detail"),
    path("<int:pk>/cancel/", views.deployment_cancel_view, name="cancel"),
    path("<int:pk>/redeploy/", views.deployment_redeploy_view, name="redeploy"),
    path("<int:pk>/approve/", approval_views.deployment_approve_view, name="approve"),
    path("<int:pk>/reject/", approval_views.deployment_reject_view, name="reject"),
    path("<int:pk>/props/", views.deployment_props, name="props"),
    path("<int:pk>/rollout/", views.deployment_rollout, name="rollout"),
    path("<int:pk>/changes/", views.deployment_changes_view, name="changes"),
    path("<int:pk>/log.txt", log_views.log_download, name="log-download"),
    path("<int:pk>/log/earlier/", log_views.log_earlier, name="log-earlier"),
]

site_urlpatterns = [
    path("<int:pk>/history/", site_views.site_history, name="history"),
    path("<int:pk>/deploy/", site_views.site_deploy, name="deploy"),
    path("<int:pk>/plan/", site_views.site_plan_view, name="plan"),
    path("<int:pk>/plan/button/", site_views.site_plan_button, name="plan-button"),
    path("<int:pk>/reconcile/", site_views.site_reconcile, name="reconcile"),
    path("<int:pk>/provision/", site_views.site_provision, name="provision"),
    path("<int:pk>/stack-fix/<int:server_pk>/<slug:code>/", site_views.site_stack_fix,
         name="stack-fix"),
    path("<int:pk>/rollback/<str:release>/", site_views.site_rollback, name="rollback"),
    path("<int:pk>/rollback/<str:release>/plan/", site_views.site_rollback_plan,
         name="rollback-plan"),
]
