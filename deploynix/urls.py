"""URL configuration. Everything tenant-scoped lives under /o/<org>/ so links are shareable."""

from __future__ import annotations

from django.urls import include, path

from deploynix import dashboard
from tenancy.account_urls import account_patterns, auth_patterns
from tenancy.views import invitation, orgs

org_patterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("panels/<slug:name>/", dashboard.dashboard_panel, name="dashboard-panel"),
    path("", include("tenancy.team_urls")),
    path("servers/", include("servers.urls")),
    path("sites/", include("deploynix.site_urls")),
    path("load-balancers/", include("loadbalancers.urls")),
    path("deployments/", include("deployments.urls")),
    path("sites/<int:site_id>/schedules/", include("schedules.urls")),
    path("notifications/", include("notifications.urls")),
    path("freezes/", include("sites.freeze_urls")),
]

urlpatterns = [
    path("", orgs.home, name="home"),
    path("", include(auth_patterns)),
    path("account/", include(account_patterns)),
    path("orgs/new/", orgs.org_create, name="org-create"),
    path("invitations/<str:token>/", invitation.invitation, name="invitation"),
    path("o/<slug:org>/", include(org_patterns)),
    path("api/v1/", include("deploynix.api_urls")),
    path("tokens/", include("tenancy.views.tokens")),
    path("hooks/", include("webhooks.urls")),
    path("o/<slug:org>/sites/<int:pk>/webhook/", include("webhooks.page_urls")),
]
