"""Home (the first organization of the user) and organization creation."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tenancy.access import actor_for
from tenancy.forms import OrganizationForm
from tenancy.models import Membership
from tenancy.services.orgs import organization_create


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
        try:
            org = organization_create(
                name=form.cleaned_data["name"], owner=request.user, actor=actor_for(request)
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("dashboard", org=org.slug)
    return render(request, "orgs/create.html", {"form": form}, status=400 if form.errors else 200)
