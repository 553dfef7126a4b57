"""What was live when a deployment starts: the commit its release diff starts from, the
environment version it ships and the keys changed since the live release's version
(deployments/envkeys.py). Recorded by the worker right after the claim, before anything touches
a server."""

from __future__ import annotations

from deployments import selectors
from deployments.context_builder import shipped_env_version
from deployments.envkeys import env_changes_as_dict, env_changes_since_live
from deployments.models import Deployment
from sites.models import Site


def site_env_changes(site: Site) -> dict[str, list]:
    """Environment keys added, removed and changed now, since the live release (names only)."""
    return env_changes_as_dict(env_changes_since_live(site))


def deployment_record_baseline(deployment: Deployment) -> Deployment:
    """Store on the (claimed) `deployment` the live commit, the environment version it ships
    and the keys that version changes; the instance gets the same values (the context is
    built from it next)."""
    site = deployment.site
    deployment.base_commit = selectors.live_commit(site=site)
    deployment.env_version = shipped_env_version(deployment)
    shipped = deployment.env_version
    deployment.env_changes = env_changes_as_dict(
        env_changes_since_live(site, shipped) if shipped is not None else None
    )
    deployment.save(update_fields=["base_commit", "env_version", "env_changes"])
    return deployment
