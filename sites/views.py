"""A site's own pages: create, edit, delete; and its workers' (add, edit, delete).

Thin: access (org_view), form, service, render. Buttons are hidden for roles without the
capability and the decorator refuses the POST anyway (403). The site list and the site page
compose several apps and live in deploynix/site_pages.py; History, Deploy, Reconcile and
Rollback are deployments' (deployments/views/site.py).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from sites import selectors, services
from sites.forms import SiteForm, WorkerForm
from sites.models import Site, Worker
from sites.presets import PRESETS, preset_or_default
from tenancy.access import actor_for, org_view
from tenancy.roles import Cap


def _site(request: HttpRequest, pk: int) -> Site:
    """The site `pk` of the request's organization, or 404 (other organizations included)."""
    site = selectors.site_get(org=request.org, pk=pk)
    if site is None:
        raise Http404("No such site")
    return site


def _show_errors(form: SiteForm | WorkerForm, exc: ValidationError) -> None:
    """Put the service's errors next to the form fields they are about (else on top)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        field = {"environment": "env"}.get(field, field)
        form.add_error(field if field in form.fields else None, errors)


def _to_detail(request: HttpRequest, site: Site) -> HttpResponse:
    return redirect("sites:detail", org=request.org.slug, pk=site.pk)


@org_view(Cap.EDIT_SITES)
@require_http_methods(["GET", "POST"])
def site_create(request: HttpRequest) -> HttpResponse:
    preset = preset_or_default(request.GET.get("preset"))
    form = SiteForm(request.POST or None, org=request.org, preset=preset,
                    gates=request.can.site_gates)
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
    context = {"form": form, "site": None, "presets": PRESETS, "chosen_preset": preset,
               "chosen_summary": PRESETS[preset].summary}
    return render(request, "sites/site_form.html", context)


@org_view(Cap.EDIT_SITES)
@require_http_methods(["GET", "POST"])
def site_edit(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site(request, pk)
    form = SiteForm(request.POST or None, org=request.org, site=site,
                    gates=request.can.site_gates)
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


@org_view(Cap.MANAGE_SERVERS)
@require_http_methods(["GET", "POST"])
def site_delete(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site(request, pk)
    if request.method == "POST":
        services.site_delete(site=site, actor=actor_for(request))
        messages.success(request, f"Site {site.name} deleted (its files stay on the servers).")
        return redirect("sites:list", org=request.org.slug)
    # Deleting the site stops nothing on the servers: say so when workers run there.
    has_workers = site.workers_managed and site.workers.exists()
    return render(request, "sites/site_confirm_delete.html",
                  {"site": site, "has_workers": has_workers})


@org_view(Cap.VIEW_SECRETS)
@never_cache
@require_POST
def site_env_reveal(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """One secret environment value, shown on purpose (a POST, audited by the service)."""
    site = _site(request, pk)
    try:
        value = services.site_secret_reveal(site=site, actor=actor_for(request), name=name)
    except services.NoSuchVariable:
        raise Http404("No such variable") from None
    template = "sites/_env_value.html" if request.headers.get("HX-Request") else (
        "sites/env_reveal.html"
    )
    return render(request, template, {"site": site, "name": name, "value": value})


def _worker(site: Site, worker_id: int) -> Worker:
    worker = selectors.worker_get(site=site, pk=worker_id)
    if worker is None:
        raise Http404("No such worker")
    return worker


def _worker_form_page(request: HttpRequest, site: Site, form: WorkerForm,
                      worker: Worker | None) -> HttpResponse:
    return render(request, "sites/worker_form.html", {"form": form, "site": site,
                                                      "worker": worker})


@org_view(Cap.MANAGE_WORKERS)
@require_http_methods(["GET", "POST"])
def worker_create(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site(request, pk)
    form = WorkerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            worker = services.worker_create(site=site, actor=actor_for(request),
                                            **form.cleaned_data)
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, f"Worker {worker.name} added: the next deploy starts it.")
            return _to_detail(request, site)
    return _worker_form_page(request, site, form, None)


@org_view(Cap.MANAGE_WORKERS)
@require_http_methods(["GET", "POST"])
def worker_edit(request: HttpRequest, pk: int, worker_id: int) -> HttpResponse:
    site = _site(request, pk)
    worker = _worker(site, worker_id)
    form = WorkerForm.for_worker(worker, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.worker_update(worker=worker, actor=actor_for(request), **form.cleaned_data)
        except ValidationError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, f"Worker {worker.name} saved: the next deploy applies it.")
            return _to_detail(request, site)
    return _worker_form_page(request, site, form, worker)


@org_view(Cap.MANAGE_WORKERS)
@require_http_methods(["GET", "POST"])
def worker_delete(request: HttpRequest, pk: int, worker_id: int) -> HttpResponse:
    site = _site(request, pk)
    worker = _worker(site, worker_id)
    if request.method == "POST":
        services.worker_delete(worker=worker, actor=actor_for(request))
        messages.success(request, f"Worker {worker.name} deleted: the next deploy stops it.")
        return _to_detail(request, site)
    return render(request, "sites/worker_confirm_delete.html", {"site": site, "worker": worker})
