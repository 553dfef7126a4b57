"""Home, organization creation and the organization dashboard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from deploynix.access import actor_for, org_view
from deploynix.dashboard import dashboard_context
from deploynix.forms import OrganizationForm
from deploynix.models import Membership
from deploynix.roles import Cap
from deploynix.services.orgs import organization_create


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to their first organization (or to create one)."""
    membership = (
        Membership.objects.filter(user=request.user).select_related("organization")
        .order_by("created_at").first()
    )
    if membership is None:
        return redirect("org-create")
    return redirect("dashboard", org=membership.organization.slug)


@login_required
@require_http_methods(["GET", "POST"])
def org_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        org = organization_create(
            name=form.cleaned_data["name"], owner=request.user, actor=actor_for(request)
        )
        return redirect("dashboard", org=org.slug)
    return render(request, "orgs/create.html", {"form": form})


@org_view(Cap.VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "orgs/dashboard.html", dashboard_context(request.org))


DASHBOARD_PANELS = {
    "sites": "orgs/_sites_panel.html",
    "deployments": "orgs/_deployments_panel.html",
}


@org_view(Cap.VIEW)
def dashboard_panel(request: HttpRequest, name: str) -> HttpResponse:
    """One dashboard panel, re-fetched by htmx when a deployment's status changes."""
    if name not in DASHBOARD_PANELS:
        raise Http404("No such panel")
    return render(request, DASHBOARD_PANELS[name], dashboard_context(request.org))
