"""Freeze window pages: the organization's windows (their own page, linked from the
organization settings; Admin+ to change) and a site's (on the site page; Manager+ to change).
The rules are in sites/freezes.py; what a freeze does to a deploy in deployments/gates.py."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from sites.freeze_forms import FreezeWindowForm
from sites.freezes import (
    freeze_window_create,
    freeze_window_delete,
    freeze_window_list,
    with_state,
)
from sites.models import FreezeWindow, Site
from sites.selectors import site_get
from tenancy.access import actor_for, org_view
from tenancy.roles import Cap


@org_view(Cap.VIEW)
@require_GET
def org_freezes(request: HttpRequest) -> HttpResponse:
    return _org_page(request, FreezeWindowForm())


@org_view(Cap.ORG_FREEZES)
@require_POST
def org_freeze_create(request: HttpRequest) -> HttpResponse:
    form = FreezeWindowForm(request.POST)
    if form.is_valid() and _created(request, form, site=None):
        return redirect("freezes:list", org=request.org.slug)
    return _org_page(request, form, status=400)


@org_view(Cap.ORG_FREEZES)
@require_POST
def org_freeze_delete(request: HttpRequest, window: int) -> HttpResponse:
    freeze_window_delete(window=_window(request, window, site=None), actor=actor_for(request))
    messages.success(request, "Freeze window removed.")
    return redirect("freezes:list", org=request.org.slug)


@org_view(Cap.SITE_GATES)
@require_POST
def site_freeze_create(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site(request, pk)
    form = FreezeWindowForm(request.POST)
    if form.is_valid():
        _created(request, form, site=site)
    for field, errors in form.errors.items():
        messages.error(request, f"Freeze window {field.replace('_', ' ')}: {' '.join(errors)}")
    return redirect(_site_freezes_url(request, site))


@org_view(Cap.SITE_GATES)
@require_POST
def site_freeze_delete(request: HttpRequest, pk: int, window: int) -> HttpResponse:
    site = _site(request, pk)
    freeze_window_delete(window=_window(request, window, site=site), actor=actor_for(request))
    messages.success(request, "Freeze window removed.")
    return redirect(_site_freezes_url(request, site))


def _created(request: HttpRequest, form: FreezeWindowForm, *, site: Site | None) -> bool:
    """Create the window; the service's field errors go back onto the form."""
    try:
        freeze_window_create(organization=request.org, site=site, actor=actor_for(request),
                             **form.window_fields())
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    messages.success(request, "Freeze window added.")
    return True


def _org_page(request: HttpRequest, form: FreezeWindowForm, status: int = 200) -> HttpResponse:
    windows = freeze_window_list(organization=request.org, site=None)
    context = {"windows": with_state(windows, timezone.now()), "form": form}
    return render(request, "sites/org_freezes.html", context, status=status)


def _site(request: HttpRequest, pk: int) -> Site:
    site = site_get(org=request.org, pk=pk)
    if site is None:
        raise Http404("No such site")
    return site


def _window(request: HttpRequest, pk: int, *, site: Site | None) -> FreezeWindow:
    """A window of this scope in the request's organization, or 404."""
    window = FreezeWindow.objects.filter(organization=request.org, site=site, pk=pk).first()
    if window is None:
        raise Http404("No such freeze window")
    return window


def _site_freezes_url(request: HttpRequest, site: Site) -> str:
    return reverse("sites:detail", kwargs={"org": request.org.slug, "pk": site.pk}) + "#freezes"

