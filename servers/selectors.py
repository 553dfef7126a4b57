"""Reads for servers and organization keys: always scoped to one organization."""

from __future__ import annotations

from django.db.models import QuerySet

from servers.models import OrganizationKey, Server
from servers.stack.report import JudgedSite, NginxRoot, SiteStack, judge_stored, nginx_roots
from tenancy.models import Organization


def server_list(*, org: Organization) -> QuerySet[Server]:
    """The organization's servers by name, in one query (no relations are rendered)."""
    return Server.objects.for_org(org).order_by("name", "id")


def server_get(*, org: Organization, pk: int) -> Server | None:
    """One server of `org`, or None (another organization's id looks like a missing one)."""
    return Server.objects.for_org(org).select_related("organization").filter(pk=pk).first()


def organization_key_active(*, org: Organization) -> OrganizationKey | None:
    """The key new servers must authorize."""
    return OrganizationKey.objects.filter(organization=org, superseded_at__isnull=True).first()


def organization_keys_pending(*, org: Organization) -> QuerySet[OrganizationKey]:
    """Superseded keys still valid because some server has not logged in with the active one."""
    return OrganizationKey.objects.filter(
        organization=org, superseded_at__isnull=False, retired_at__isnull=True
    )


def servers_not_on_active_key(*, org: Organization) -> QuerySet[Server]:
    """Servers that have not yet logged in with the active key (they block retirement)."""
    active = organization_key_active(org=org)
    return server_list(org=org).exclude(authenticated_key=active)


def site_stack_findings(site: JudgedSite) -> list[SiteStack]:
    """The stack check of `site` on each of its servers, from the stored stacks (one query).

    Judged at render time from `Server.stack`, so a changed deploy path or web directory shows
    at once; nothing connects to a server here.
    """
    servers = Server.objects.filter(organization_id=site.organization_id, sites=site)
    servers = servers.order_by("name", "id")
    return [judge_stored(server, site) for server in servers]


def server_stack_report(server: Server) -> tuple[list[NginxRoot], list[SiteStack]]:
    """The nginx roots found on `server` and the stack check of each org site on it (one query)."""
    sites = server.sites.filter(organization_id=server.organization_id).order_by("name", "id")
    return nginx_roots(server.stack), [judge_stored(server, site) for site in sites]
