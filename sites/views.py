"""Site pages: list, create, detail, edit, delete, history, and the Deploy/Rollback buttons.

Thin: access (org_view), form, service, render. Buttons are hidden for roles without the
capability and the decorator refuses the POST anyway (403).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from servers.stack.report import SETUP_DOC

from deployments import reconcile
from deployments import selectors as deployment_selectors
from deployments.charts import deployments_chart
from deployments.models import Trigger
from deployments.services import DeploymentError, deployment_request, rollback_request
from schedules.views import panel_context
from servers import selectors as server_selectors
from sites import selectors, services
from sites.forms import SiteForm
from sites.models import Site
from tenancy.access import actor_for, org_view
from tenancy.roles import Cap

HISTORY_PAGE_SIZE = 25


def _site(request: HttpRequest, pk: int) -> Site:
    """The site `pk` of the request's organization, or 404 (other organizations included)."""
    site = selectors.site_get(org=request.org, pk=pk)
    if site is None:
        raise Http404("No such site")
    return site


def _show_errors(form: SiteForm, exc: ValidationError) -> None:
    """Put the service's errors next to the form fields they are about (else on top)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        field = {"environment": "env"}.get(field, field)
        form.add_error(field if field in form.fields else None, errors)


def _to_detail(request: HttpRequest, site: Site) -> HttpResponse:
    return redirect("sites:detail", org=request.org.slug, pk=site.pk)


@org_view(Cap.VIEW)
@require_GET
def site_list(request: HttpRequest) -> HttpResponse:
    return render(request, "sites/site_list.html", {"sites": selectors.site_list(org=request.org)})


@org_view(Cap.EDIT_SITES)
@require_http_methods(["GET", "POST"])
def site_create(request: HttpRequest) -> HttpResponse:
    form = SiteForm(request.POST or None, org=request.org)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.site_create(
                organization=request.org, actor=actor_for(request),
                servers=form.cleaned_data["servers"], **form.site_fields(),
            )
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            messages.success(
                request, f"Site {site.name} created. Add its deploy key to the repository."
            )
            return _to_detail(request, site)
    return render(request, "sites/site_form.html", {"form": form, "site": None})


@org_view(Cap.EDIT_SITES)
@require_http_methods(["GET", "POST"])
def site_edit(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site(request, pk)
    form = SiteForm(request.POST or None, org=request.org, site=site)
    if request.method == "POST" and form.is_valid():
        try:
            services.site_update(
                site=site, actor=actor_for(request), servers=form.cleaned_data["servers"],
                **form.site_fields(),
            )
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, f"Site {site.name} saved.")
            return _to_detail(request, site)
    return render(request, "sites/site_form.html", {"form": form, "site": site})


@org_view(Cap.VIEW)
@require_GET
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site(request, pk)
    last_30 = list(deployment_selectors.deployment_history(site=site)[:30])
    context = {
        "site": site,
        "truth": (truth := deployment_selectors.site_truth(site=site)),
        "live": truth.believed_live,
        "recent": last_30[:10],
        "chart": mark_safe(deployments_chart(last_30)),  # noqa: S308 — numbers + escaped text only
        "chart_count": len(last_30),
        "env": site.env if request.can.view_secrets else dict.fromkeys(site.env_names, None),
        **panel_context(site),
        "site_stacks": server_selectors.site_stack_findings(site),
        "setup_doc": SETUP_DOC,
    }
    if request.can.manage_servers:  # the delivery inbox: why did (or didn't) a push deploy?
        context["deliveries"] = list(site.webhook_deliveries.order_by("-id")[:10])
    return render(request, "sites/site_detail.html", context)


@org_view(Cap.MANAGE_SERVERS)
@require_http_methods(["GET", "POST"])
def site_delete(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site(request, pk)
    if request.method == "POST":
        services.site_delete(site=site, actor=actor_for(request))
        messages.success(request, f"Site {site.name} deleted (its files stay on the servers).")
        return redirect("sites:list", org=request.org.slug)
    return render(request, "sites/site_confirm_delete.html", {"site": site})


@org_view(Cap.VIEW)
@require_GET
def site_history(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site(request, pk)
    page = Paginator(deployment_selectors.deployment_history(site=site), HISTORY_PAGE_SIZE)
    truth = deployment_selectors.site_truth(site=site)
    targets = deployment_selectors.rollback_targets(site=site, truth=truth)
    believed = truth.believed_live.release if truth.believed_live else ""
    context = {
        "site": site,
        "page": page.get_page(request.GET.get("page")),
        "truth": truth,
        "targets": targets,
        "retained": {target.release for target in targets},
        # What the servers serve once observed (the panel's record before that).
        "live_release": (truth.live_everywhere or "") if truth.observed else believed,
    }
    return render(request, "sites/site_history.html", context)


@org_view(Cap.DEPLOY)
@require_POST
def site_deploy(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site(request, pk)
    try:
        deployment = deployment_request(
            site=site, actor=actor_for(request), trigger=Trigger.MANUAL,
            commit=request.POST.get("commit") or None,
        )
    except DeploymentError as exc:
        messages.error(request, str(exc))
        return _to_detail(request, site)
    return redirect("deployments:detail", org=request.org.slug, pk=deployment.pk)


@org_view(Cap.DEPLOY)
@require_POST
def site_reconcile(request: HttpRequest, pk: int) -> HttpResponse:
    """Read every server of the site now and record what is live there (audited)."""
    site = _site(request, pk)
    report = reconcile.site_reconcile(site=site, actor=actor_for(request))
    for seen in report.servers:
        if seen.error:
            messages.error(request, f"{seen.server} could not be read: {seen.error}")
        for sentence in seen.drift:
            messages.error(request, f"Drift on {seen.server}: {sentence}")
    if not report.drift and not any(seen.error for seen in report.servers):
        messages.success(request, f"Reconciled {site.name}: the servers agree with the panel.")
    return _to_detail(request, site)


@org_view(Cap.DEPLOY)
@require_POST
def site_rollback(request: HttpRequest, pk: int, release: str) -> HttpResponse:
    site = _site(request, pk)
    try:
        deployment = rollback_request(
            site=site, release=release, actor=actor_for(request), trigger=Trigger.MANUAL
        )
    except DeploymentError as exc:
        messages.error(request, str(exc))
        return redirect("sites:history", org=request.org.slug, pk=site.pk)
    return redirect("deployments:detail", org=request.org.slug, pk=deployment.pk)
