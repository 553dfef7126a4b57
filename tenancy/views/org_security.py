"""The organization's security settings: require two-factor for Owners and Admins."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tenancy.access import actor_for, org_view
from tenancy.forms_account import OrgSecurityForm
from tenancy.roles import Cap
from tenancy.services.orgs import organization_require_two_factor


@org_view(Cap.ORG_SETTINGS)
@require_http_methods(["GET", "POST"])
def org_security(request: HttpRequest) -> HttpResponse:
    initial = {"require_two_factor": request.org.require_two_factor}
    form = OrgSecurityForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            organization_require_two_factor(
                actor=actor_for(request), organization=request.org,
                required=form.cleaned_data["require_two_factor"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Security settings saved.")
            return redirect("org-security", org=request.org.slug)
    return render(request, "orgs/security.html", {"form": form},
                  status=400 if form.errors else 200)
