"""Reads of deployments: scoped to an organization or a site, with the joins lists need."""

from __future__ import annotations

from django.db.models import QuerySet

from deployments.models import Deployment, Kind, LogLine, Status
from deploynix.models import Organization
from sites.models import Site


def deployment_list_recent(*, org: Organization, limit: int = 10) -> list[Deployment]:
    """The organization's latest deployments, newest first, with their site (one query)."""
    return list(Deployment.objects.for_org(org).select_related("site").order_by("-id")[:limit])


def deployment_list(*, org: Organization) -> QuerySet[Deployment]:
    """Every deployment of the organization, newest first, with its site (paginate it)."""
    return Deployment.objects.for_org(org).select_related("site").order_by("-id")


def deployment_history(*, site: Site) -> QuerySet[Deployment]:
    """Every deployment of `site`, newest first (paginate it)."""
    return Deployment.objects.filter(site=site).select_related("triggered_by").order_by("-id")


def deployment_live(*, site: Site) -> Deployment | None:
    """The deployment whose release is live on the servers: the last one that succeeded."""
    return (
        Deployment.objects.filter(site=site, status=Status.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .first()
    )


def retained_releases(*, site: Site) -> list[str]:
    """Releases still on the servers: the newest `releases_to_keep` successful deploys + live.

    Failed releases are removed by the pipeline and never count, and the live release is
    never pruned (it may be older after a rollback).
    """
    releases = list(
        Deployment.objects.filter(site=site, kind=Kind.DEPLOY, status=Status.SUCCEEDED)
        .exclude(release="")
        .order_by("-release")
        .values_list("release", flat=True)
        .distinct()[: site.releases_to_keep]
    )
    live = deployment_live(site=site)
    if live is not None and live.release and live.release not in releases:
        releases.append(live.release)
    return sorted(releases, reverse=True)


def deployment_for_release(*, site: Site, release: str) -> Deployment | None:
    """The successful deploy that built `release`."""
    return (
        Deployment.objects.filter(
            site=site, kind=Kind.DEPLOY, status=Status.SUCCEEDED, release=release
        )
        .order_by("-id")
        .first()
    )


def log_lines_after(*, deployment: Deployment, after: int = 0, limit: int = 5000) -> list[LogLine]:
    """Stored log lines with seq > `after`, in order."""
    return list(
        LogLine.objects.filter(deployment=deployment, seq__gt=after).order_by("seq")[:limit]
    )
