"""Load-balancer pages. Thin: access, form, service, render. Everyone reads; Manager+ writes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from loadbalancers import selectors, services
from loadbalancers.forms import BalancedSiteForm, LoadBalancerForm, add_service_errors
from loadbalancers.models import ApplyStatus, LoadBalancer
from loadbalancers.nginx import ConfigError
from sites.selectors import site_get, site_list
from tenancy.access import actor_for, org_view
from tenancy.roles import Cap


def _balancer(request: HttpRequest, pk: int) -> LoadBalancer:
    """The balancer `pk` of the request's organization, or 404 (other organizations included)."""
    lb = selectors.load_balancer_get(org=request.org, pk=pk)
    if lb is None:
        raise Http404("No such load balancer")
    return lb


def _to_detail(request: HttpRequest, lb: LoadBalancer) -> HttpResponse:
    return redirect("loadbalancers:detail", org=request.org.slug, pk=lb.pk)


@org_view(Cap.VIEW)
@require_GET
def balancer_list(request: HttpRequest) -> HttpResponse:
    balancers = selectors.load_balancer_list(org=request.org)
    return render(request, "loadbalancers/balancer_list.html", {"balancers": balancers})


@org_view(Cap.VIEW)
@require_GET
def balancer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One balancer: its sites and backends, the config it should have, the last apply."""
    lb = _balancer(request, pk)
    try:
        config, config_error = selectors.rendered_config(lb), ""
    except ConfigError as exc:
        config, config_error = "", str(exc)
    fronted = {entry.site_id for entry in lb.sites.all()}
    context = {
        "lb": lb,
        "config": config,
        "config_error": config_error,
        "pending": bool(config) and config != lb.applied_config,
        "refused": lb.apply_status == ApplyStatus.REJECTED,
        "stale": selectors.stale_backends(lb),
        "addable_sites": [s for s in site_list(org=request.org) if s.pk not in fronted],
    }
    return render(request, "loadbalancers/balancer_detail.html", context)


@org_view(Cap.MANAGE_SERVERS)
@require_http_methods(["GET", "POST"])
def balancer_create(request: HttpRequest) -> HttpResponse:
    form = LoadBalancerForm(request.POST or None, org=request.org)
    if request.method == "POST" and form.is_valid():
        try:
            lb = services.load_balancer_create(
                org=request.org, actor=actor_for(request), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Load balancer {lb.name} added. Add a site, then apply.")
            return _to_detail(request, lb)
    return render(request, "loadbalancers/balancer_form.html", {"form": form, "lb": None})


@org_view(Cap.MANAGE_SERVERS)
@require_http_methods(["GET", "POST"])
def balancer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    lb = _balancer(request, pk)
    form = LoadBalancerForm(request.POST or None, org=request.org, instance=lb)
    if request.method == "POST" and form.is_valid():
        changes = {k: val for k, val in form.cleaned_data.items() if k != "server"}
        try:
            services.load_balancer_update(load_balancer=lb, actor=actor_for(request), **changes)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Load balancer {lb.name} saved. Apply to put it live.")
            return _to_detail(request, lb)
    return render(request, "loadbalancers/balancer_form.html", {"form": form, "lb": lb})


@org_view(Cap.MANAGE_SERVERS)
@require_http_methods(["GET", "POST"])
def balancer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    lb = _balancer(request, pk)
    if request.method == "POST":
        services.load_balancer_delete(load_balancer=lb, actor=actor_for(request))
        messages.success(request, f"Load balancer {lb.name} deleted.")
        return redirect("loadbalancers:list", org=request.org.slug)
    return render(request, "loadbalancers/balancer_confirm_delete.html", {"lb": lb})


@org_view(Cap.MANAGE_SERVERS)
@require_POST
def balancer_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """Generate, upload, `nginx -t`, reload (bounded wait); the page shows the outcome."""
    lb = _balancer(request, pk)
    try:
        lb = services.load_balancer_apply(load_balancer=lb, actor=actor_for(request))
    except ConfigError as exc:
        messages.error(request, f"The config cannot be generated: {exc}")
        return _to_detail(request, lb)
    if lb.apply_status == ApplyStatus.APPLIED:
        messages.success(request, "Config applied: nginx accepted it and reloaded.")
    else:
        messages.error(request, f"Not applied ({lb.get_apply_status_display()}); see below why.")
    return _to_detail(request, lb)


@org_view(Cap.MANAGE_SERVERS)
@require_http_methods(["GET", "POST"])
def balanced_site_edit(request: HttpRequest, pk: int, site_id: int) -> HttpResponse:
    """Put a site behind the balancer, or change its method and backends."""
    lb = _balancer(request, pk)
    site = site_get(org=request.org, pk=site_id)
    if site is None:
        raise Http404("No such site")
    entry = selectors.balanced_site_get(load_balancer=lb, site_id=site.pk)
    form = BalancedSiteForm(request.POST or None, site=site, entry=entry)
    if request.method == "POST" and form.is_valid():
        try:
            services.balanced_site_set(
                load_balancer=lb, actor=actor_for(request), site=site, **form.service_arguments()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{site.name} saved. Apply to put it live.")
            return _to_detail(request, lb)
    context = {"lb": lb, "site": site, "entry": entry, "form": form}
    return render(request, "loadbalancers/balanced_site_form.html", context)


@org_view(Cap.MANAGE_SERVERS)
@require_POST
def balanced_site_remove(request: HttpRequest, pk: int, site_id: int) -> HttpResponse:
    lb = _balancer(request, pk)
    entry = selectors.balanced_site_get(load_balancer=lb, site_id=site_id)
    if entry is None:
        raise Http404("This site is not behind this load balancer")
    services.balanced_site_remove(entry=entry, actor=actor_for(request))
    messages.success(request, f"{entry.site.name} removed. Apply to put it live.")
    return _to_detail(request, lb)


@org_view(Cap.MANAGE_SERVERS)
@require_POST
def balancer_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Read the balancer's live nginx now (bounded wait); the findings show on the page."""
    lb = _balancer(request, pk)
    services.load_balancer_check(load_balancer=lb, actor=actor_for(request))
    messages.info(request, "Balancer checked; the findings are below.")
    return _to_detail(request, lb)
