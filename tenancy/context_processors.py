"""Template context shared by every page: the organization switcher and the current membership."""

from __future__ import annotations

from django.http import HttpRequest

from tenancy.models import Membership


def organizations(request: HttpRequest) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    memberships = Membership.objects.filter(user=request.user).select_related("organization")
    context = {"my_memberships": list(memberships.order_by("organization__name"))}
    if hasattr(request, "membership"):  # set by access.org_view
        context.update(org=request.org, membership=request.membership, can=request.can)
    return context
