"""Reads of sites, scoped to an organization, with everything lists show in a fixed query count."""

from __future__ import annotations

from django.db.models import QuerySet

from sites.environment import EnvChanges, env_changes
from sites.models import EnvironmentVersion, Site, Worker
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


def worker_list(*, site: Site) -> QuerySet[Worker]:
    """The site's workers by name (one query)."""
    return Worker.objects.filter(site=site).order_by("name")


def worker_get(*, site: Site, pk: int) -> Worker | None:
    """The worker `pk` of `site` (itself already scoped to the organization), or None."""
    return Worker.objects.filter(site=site, pk=pk).select_related("site__organization").first()


def env_version_latest(*, site: Site) -> EnvironmentVersion | None:
    """The site's newest environment version: what the next deploy ships (None: never set)."""
    return site.env_versions.order_by("-number").first()


def env_changes_between(
    old: EnvironmentVersion | None, new: EnvironmentVersion | None
) -> EnvChanges | None:
    """Names added, removed and changed from version `old` to version `new` of one site (never
    values). None when `old` is unknown: nothing live yet, or a release from before versions
    were kept. `new` None: the site never had an environment."""
    if old is None:
        return None
    if new is not None and new.site_id != old.site_id:
        raise ValueError("those environment versions belong to different sites")
    if new is not None and new.pk == old.pk:
        return EnvChanges()
    return env_changes(old.env, new.env if new is not None else {})


def env_changes_since(site: Site, version: EnvironmentVersion | int | None) -> EnvChanges:
    """Names added, removed and changed in the site's newest environment version since
    `version` (a version of this site, or its number; None: since an empty environment)."""
    if isinstance(version, int):
        version = site.env_versions.filter(number=version).first()
    elif version is not None and version.site_id != site.pk:
        raise ValueError("that environment version belongs to another site")
    latest = env_version_latest(site=site)
    if version is None:
        return env_changes({}, latest.env if latest is not None else {})
    return env_changes_between(version, latest)
