"""The site list and the site page: a site with what every app knows about it.

They live in the project shell, beside the dashboard, because they compose several apps
(sites, servers, load balancers, deployments, schedules, webhooks) and only the shell may import
them all:
`sites` stays below the apps that deploy it. The site's own actions (create, edit, delete) are
in sites/views.py, its deployment pages in deployments/views/site.py.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from deployments import selectors as deployment_selectors
from deployments.charts import deployments_chart
from loadbalancers.selectors import balanced_sites_of_site
from schedules import selectors as schedule_selectors
from servers import selectors as server_selectors
from servers.stack.report import SETUP_DOC
from sites.freeze_forms import FreezeWindowForm
from sites.freezes import freeze_among, windows_of_site, with_state
from sites.models import Site, SiteHook
from sites.secrets import env_entries
from sites.selectors import env_changes_between, env_version_latest, site_get, worker_list
from tenancy.access import org_view
from tenancy.roles import Cap
from webhooks.selectors import delivery_list_recent

SITES_PAGE_SIZE = 50
CHART_DEPLOYMENTS = 30
RECENT_DEPLOYMENTS = 10
RECENT_DELIVERIES = 10


@org_view(Cap.VIEW)
@require_GET
def site_list(request: HttpRequest) -> HttpResponse:
    sites = deployment_selectors.site_list_with_deployments(org=request.org)
    page = Paginator(sites, SITES_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "sites/site_list.html", {"sites": page.object_list, "page": page})


@org_view(Cap.VIEW)
@require_GET
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    site = site_get(org=request.org, pk=pk)
    if site is None:
        raise Http404("No such site")
    context = {
        "site": site,
        # Secret values never reach the page: a Reveal button fetches one (sites/views.py).
        "env": env_entries(site.env, site.secret_env_names, show_plain=request.can.view_secrets),
        **_deployments_panels(site),
        **_schedules_panel(site),
        **_gates_panel(site),
        "hooks": sorted(site.hooks.all(), key=lambda h: SiteHook.Point.values.index(h.point)),
        "site_stacks": server_selectors.site_stack_findings(site),
        "provisioning": deployment_selectors.provisioning_panel(site=site),
        "balanced_by": list(balanced_sites_of_site(site=site)),
        "workers": list(worker_list(site=site)),
        "setup_doc": SETUP_DOC,
    }
    context.update(_environment_panel(site, context["live"]))
    if request.can.manage_servers:  # the delivery inbox: why did (or didn't) a push deploy?
        context["deliveries"] = delivery_list_recent(site=site, limit=RECENT_DELIVERIES)
    return render(request, "sites/site_detail.html", context)


def _deployments_panels(site: Site) -> dict:
    """Live release, what the servers serve, the chart and the recent deployments."""
    last = list(deployment_selectors.deployment_history(site=site)[:CHART_DEPLOYMENTS])
    truth = deployment_selectors.site_truth(site=site)
    return {
        "truth": truth,
        "live": truth.believed_live,
        "recent": last[:RECENT_DEPLOYMENTS],
        "chart": mark_safe(deployments_chart(last)),  # noqa: S308 — numbers + escaped text only
        "chart_count": len(last),
    }


def _gates_panel(site: Site) -> dict:
    """The active freeze (the Deploy button then asks for an override reason), the windows
    that apply to the site, and the form to add one (sites/templates/sites/_freeze_panel.html)."""
    now = timezone.now()
    windows = with_state(windows_of_site(site), now)
    return {
        "freeze": freeze_among(windows, now),
        "freeze_windows": windows,
        "form": FreezeWindowForm(),
    }


def _environment_panel(site: Site, live) -> dict:
    """The environment's newest version and what changed since the one the live release
    shipped (None: nothing live, or live from before versions were kept)."""
    latest = env_version_latest(site=site)
    # The same comparison as the plan and the release diff (deployments/envkeys.py).
    since_live = env_changes_between(live.env_version if live is not None else None, latest)
    return {"env_version": latest, "env_since_live": since_live,
            "live_env_version": live.env_version if live is not None else None}


def _schedules_panel(site: Site) -> dict:
    """What schedules/_site_panel.html needs besides `site` and `can`."""
    return {
        "schedules": schedule_selectors.schedule_list_pending(site=site),
        "closed_schedules": schedule_selectors.schedule_list_recent_closed(site=site),
    }
