"""Schedule pages of a site. Thin: access, form, service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from schedules import selectors, services
from schedules.cron import clean_cron, describe, upcoming
from schedules.forms import ScheduleForm, next_full_hour
from sites.models import Site
from tenancy.access import actor_for, org_object, org_view
from tenancy.roles import Cap
from tenancy.timezones import zone

PREVIEW_RUNS = 3


def _site(request: HttpRequest, site_id: int) -> Site:
    """The site `site_id` of the request's organization, or 404."""
    return org_object(Site, request.membership, pk=site_id)


def _to_list(request: HttpRequest, site: Site) -> HttpResponse:
    return redirect("schedules:list", org=request.org.slug, site_id=site.pk)


def panel_context(site: Site) -> dict:
    """What `schedules/_site_panel.html` needs besides `can` (the site page,
    deploynix/site_pages.py, reads the same selectors)."""
    return {"site": site, "schedules": selectors.schedule_list_pending(site=site),
            "closed_schedules": selectors.schedule_list_recent_closed(site=site)}


@org_view(Cap.VIEW)
@require_GET
def schedule_list(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _site(request, site_id)
    return render(request, "schedules/schedule_list.html", panel_context(site))


def cron_preview_context(cron: str, tz_name: str) -> dict:
    """What `schedules/_cron_preview.html` shows for `cron` ("" shows nothing)."""
    context = {"tz": tz_name, "description": "", "runs": [], "error": ""}
    if not cron.strip():
        return context
    try:
        cron = clean_cron(cron)
    except ValidationError as exc:
        return {**context, "error": " ".join(exc.messages)}
    runs = upcoming(cron, zone(tz_name), timezone.now(), PREVIEW_RUNS)
    return {**context, "description": describe(cron), "runs": runs}


@org_view(Cap.DEPLOY)
@require_GET
def schedule_cron_preview(request: HttpRequest, site_id: int) -> HttpResponse:
    """The cron field's live preview (htmx): the expression in words and its next runs."""
    _site(request, site_id)
    cron = request.GET.get("cron", "")[:200]
    return render(request, "schedules/_cron_preview.html",
                  cron_preview_context(cron, request.org.time_zone))


@org_view(Cap.DEPLOY)
@require_http_methods(["GET", "POST"])
def schedule_create(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _site(request, site_id)
    tz = zone(request.org.time_zone)
    form = ScheduleForm(request.POST or None, tz=tz, initial={"run_at": next_full_hour(tz)})
    if request.method == "POST" and form.is_valid():
        try:
            schedule = services.schedule_create(site=site, actor=actor_for(request),
                                                **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            first = timezone.localtime(schedule.run_at, tz)
            messages.success(request, f"Deploy of {site.name} scheduled"
                             f"{' to repeat, first' if schedule.cron else ''} for "
                             f"{first:%Y-%m-%d %H:%M} ({tz.key}).")
            return _to_list(request, site)
    preview = cron_preview_context(str(form["cron"].value() or ""), request.org.time_zone)
    return render(request, "schedules/schedule_form.html",
                  {"form": form, "site": site, **preview}, status=400 if form.errors else 200)


@org_view(Cap.DEPLOY)
@require_POST
def schedule_cancel(request: HttpRequest, site_id: int, pk: int) -> HttpResponse:
    site = _site(request, site_id)
    schedule = selectors.schedule_get(org=request.org, site=site, pk=pk)
    if schedule is None:
        raise Http404("No such schedule")
    try:
        services.schedule_cancel(schedule=schedule, actor=actor_for(request))
    except services.ScheduleError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Scheduled deploy cancelled.")
    return _to_list(request, site)
