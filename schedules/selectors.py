"""Reads of scheduled deploys, always through a site or an organization."""

from __future__ import annotations

from schedules.models import ScheduledDeploy
from sites.models import Site
from tenancy.models import Organization

RECENT_CLOSED = 5


def schedule_list_pending(*, site: Site) -> list[ScheduledDeploy]:
    """The site's pending schedules, soonest first (one query)."""
    return list(ScheduledDeploy.objects.filter(site=site).pending().order_by("run_at", "id"))


def schedule_list_recent_closed(*, site: Site, limit: int = RECENT_CLOSED) -> list[ScheduledDeploy]:
    """The site's latest fired or cancelled schedules, newest first, to show what happened."""
    return list(
        ScheduledDeploy.objects.filter(site=site)
        .exclude(status="pending")
        .order_by("-run_at", "-id")[:limit]
    )


def schedule_get(*, org: Organization, site: Site, pk: int) -> ScheduledDeploy | None:
    """One schedule of `site` in `org`, or None (another organization's id looks missing)."""
    return ScheduledDeploy.objects.for_org(org).filter(site=site, pk=pk).first()
