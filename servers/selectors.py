"""Reads for servers and organization keys: always scoped to one organization."""

from __future__ import annotations

from django.db.models import QuerySet

from deploynix.models import Organization
from servers.models import OrganizationKey, Server


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
