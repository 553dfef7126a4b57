"""Reads of sites, scoped to an organization, with everything lists show in a fixed query count."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from deployments.models import Deployment, Status
from sites.models import Site
from tenancy.models import Organization


def site_list(*, org: Organization) -> QuerySet[Site]:
    """The organization's sites with their servers, live release and latest deployment.

    Annotations (no N+1): `live_release`, `live_commit`, `last_deployment_id`,
    `last_status`, `last_created_at`. Two queries however many sites there are.
    """
    latest = Deployment.objects.filter(site=OuterRef("pk")).order_by("-id")
    live = Deployment.objects.filter(site=OuterRef("pk"), status=Status.SUCCEEDED).order_by(
        "-finished_at", "-id"
    )
    return (
        Site.objects.for_org(org)
        .annotate(
            live_release=Subquery(live.values("release")[:1]),
            live_commit=Subquery(live.values("commit_sha")[:1]),
            last_deployment_id=Subquery(latest.values("id")[:1]),
            last_status=Subquery(latest.values("status")[:1]),
            last_created_at=Subquery(latest.values("created_at")[:1]),
        )
        .prefetch_related("servers")
        .order_by("name")
    )


def site_get(*, org: Organization, pk: int) -> Site | None:
    """The site `pk` of `org`, or None (another organization's site is indistinguishable)."""
    return Site.objects.for_org(org).filter(pk=pk).first()


def site_get_by_name(*, name: str, org_slug: str | None = None) -> list[Site]:
    """Sites called `name` (in the organization `org_slug` when given), for the CLI."""
    sites = Site.objects.filter(name=name).select_related("organization")
    if org_slug:
        sites = sites.filter(organization__slug=org_slug)
    return list(sites)
