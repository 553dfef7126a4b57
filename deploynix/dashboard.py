"""The organization dashboard: servers, sites (live release, drift), deployments, in panels."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from deployments.selectors import (
    deployment_list_recent,
    site_list_with_deployments,
    sites_with_drift,
)
from servers.selectors import server_list
from tenancy.access import org_view
from tenancy.models import Organization
from tenancy.roles import Cap

DASHBOARD_PANELS = {
    "sites": "orgs/_sites_panel.html",
    "deployments": "orgs/_deployments_panel.html",
}


# The dashboard shows this many sites (by name); "All sites" lists every one, page by page.
DASHBOARD_SITES = 25


def dashboard_context(org: Organization) -> dict:
    # One more than shown says whether there are more, without counting them all.
    sites = list(site_list_with_deployments(org=org, servers=False)[: DASHBOARD_SITES + 1])
    return {
        "org": org,
        "servers": list(server_list(org=org)),
        "sites": sites[:DASHBOARD_SITES],  # without their servers: not shown here
        "more_sites": len(sites) > DASHBOARD_SITES,
        "deployments": deployment_list_recent(org=org, limit=10),
        # Sites where a server serves something else than the panel believes (reconcile).
        "drift_sites": sites_with_drift(org=org),
    }


@org_view(Cap.VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "orgs/dashboard.html", dashboard_context(request.org))


@org_view(Cap.VIEW)
def dashboard_panel(request: HttpRequest, name: str) -> HttpResponse:
    """One dashboard panel, re-fetched by htmx when a deployment's status changes."""
    if name not in DASHBOARD_PANELS:
        raise Http404("No such panel")
    return render(request, DASHBOARD_PANELS[name], dashboard_context(request.org))
