"""Reads of sites, scoped to an organization, with everything lists show in a fixed query count."""

from __future__ import annotations

from django.db.models import QuerySet

from sites.models import Site
from tenancy.models import Organization

# Encrypted columns no list shows: loading them costs a Fernet decryption each, per row.
LIST_DEFERRED = ("environment", "deploy_key_private", "https_token")


def site_list(*, org: Organization, servers: bool = True) -> QuerySet[Site]:
    """The organization's sites (with their servers unless `servers` is False), by name, without
    their encrypted columns (two queries however many).

    The list pages add what deployments know: deployments.selectors.site_list_with_deployments.
    """
    sites = Site.objects.for_org(org).defer(*LIST_DEFERRED).order_by("name")
    return sites.prefetch_related("servers") if servers else sites


def site_get(*, org: Organization, pk: int) -> Site | None:
    """The site `pk` of `org`, or None (another organization's site is indistinguishable)."""
    return Site.objects.for_org(org).filter(pk=pk).first()


def site_get_by_name(*, name: str, org_slug: str | None = None) -> list[Site]:
    """Sites called `name` (in the organization `org_slug` when given), for the CLI."""
    sites = Site.objects.filter(name=name).select_related("organization")
    if org_slug:
        sites = sites.filter(organization__slug=org_slug)
    return list(sites)
