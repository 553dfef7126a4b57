"""Reads of notification channels, always through an organization."""

from __future__ import annotations

from notifications.models import Channel
from sites.models import Site
from tenancy.models import Organization


def channel_list(*, org: Organization, site: Site | None) -> list[Channel]:
    """The channels of `site`, or the organization-wide ones when `site` is None (one query)."""
    channels = Channel.objects.for_org(org)
    scoped = channels.filter(site=site) if site is not None else channels.filter(site__isnull=True)
    return list(scoped.order_by("name", "id"))
