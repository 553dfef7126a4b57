"""The organization's settings page: its time zone, and two-factor for Owners and Admins."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tenancy.access import actor_for, org_view
from tenancy.forms_account import OrgSecurityForm, OrgTimeZoneForm
from tenancy.roles import Cap
from tenancy.services.orgs import organization_require_two_factor, organization_set_time_zone


def _render(request: HttpRequest, *, security: OrgSecurityForm | None = None,
            time_zone: OrgTimeZoneForm | None = None) -> HttpResponse:
    org = request.org
    context = {
        "form": security or OrgSecurityForm(initial={"require_two_factor": org.require_two_factor}),
        "tz_form": time_zone or OrgTimeZoneForm(initial={"time_zone": org.time_zone}),
    }
    bound = [f for f in (security, time_zone) if f is not None]
    return render(request, "orgs/security.html", context,
                  status=400 if any(f.errors for f in bound) else 200)


def _back(request: HttpRequest, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("org-security", org=request.org.slug)


@org_view(Cap.ORG_SETTINGS)
@require_http_methods(["GET", "POST"])
def org_security(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request)
    form = OrgSecurityForm(request.POST)
    if form.is_valid():
        try:
            organization_require_two_factor(
                actor=actor_for(request), organization=request.org,
                required=form.cleaned_data["require_two_factor"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _back(request, "Security settings saved.")
    return _render(request, security=form)


@org_view(Cap.ORG_SETTINGS)
@require_POST
def org_time_zone(request: HttpRequest) -> HttpResponse:
    form = OrgTimeZoneForm(request.POST)
    if form.is_valid():
        organization_set_time_zone(actor=actor_for(request), organization=request.org,
                                   time_zone=form.cleaned_data["time_zone"])
        return _back(request, f"Time zone set to {form.cleaned_data['time_zone']}.")
    return _render(request, time_zone=form)
