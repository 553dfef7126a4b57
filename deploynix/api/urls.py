"""/api/v1/ routes. Mount with `path("api/v1/", include("deploynix.api.urls"))`."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from deploynix.api.views_deployments import (
    DeploymentCancelView,
    DeploymentDetailView,
    DeploymentLogView,
)
from deploynix.api.views_keys import SSHKeyView
from deploynix.api.views_schedules import ScheduleCancelView, SiteSchedulesView
from deploynix.api.views_servers import ServerCheckView, ServerDetailView, ServerListView
from deploynix.api.views_sites import (
    SiteDeploymentsView,
    SiteDetailView,
    SiteListView,
    SiteReconcileView,
    SiteReleasesView,
    SiteRollbackView,
    SiteWebhookView,
)
from tenancy.api import schema  # noqa: F401  (registers the bearer scheme with spectacular)
from tenancy.api.tokens import TokenDetailView, TokenListView

app_name = "api"

urlpatterns = [
    path("ssh-key/", SSHKeyView.as_view(), name="ssh-key"),
    path("servers/", ServerListView.as_view(), name="servers"),
    path("servers/<int:pk>/", ServerDetailView.as_view(), name="server"),
    path("servers/<int:pk>/check/", ServerCheckView.as_view(), name="server-check"),
    path("sites/", SiteListView.as_view(), name="sites"),
    path("sites/<int:pk>/", SiteDetailView.as_view(), name="site"),
    path("sites/<int:pk>/releases/", SiteReleasesView.as_view(), name="site-releases"),
    path("sites/<int:pk>/deployments/", SiteDeploymentsView.as_view(), name="site-deployments"),
    path("sites/<int:pk>/rollback/", SiteRollbackView.as_view(), name="site-rollback"),
    path("sites/<int:pk>/reconcile/", SiteReconcileView.as_view(), name="site-reconcile"),
    path("sites/<int:pk>/webhook/", SiteWebhookView.as_view(), name="site-webhook"),
    path("sites/<int:pk>/schedules/", SiteSchedulesView.as_view(), name="site-schedules"),
    path("schedules/<int:pk>/cancel/", ScheduleCancelView.as_view(), name="schedule-cancel"),
    path("deployments/<int:pk>/", DeploymentDetailView.as_view(), name="deployment"),
    path("deployments/<int:pk>/log/", DeploymentLogView.as_view(), name="deployment-log"),
    path("deployments/<int:pk>/cancel/", DeploymentCancelView.as_view(), name="deployment-cancel"),
    path("tokens/", TokenListView.as_view(), name="tokens"),
    path("tokens/<int:pk>/", TokenDetailView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", schema.api_docs, name="docs"),
]
