"""What was live when a deployment starts: the commit its release diff starts from and the
environment changes since the live release (deployments/envkeys.py). Recorded by the worker
right after the claim, before anything touches a server."""

from __future__ import annotations

from deployments import selectors
from deployments.envkeys import env_fingerprints, env_key_changes
from deployments.models import Deployment
from sites.models import Site


def live_env_record(site: Site) -> dict[str, str] | None:
    """The environment record of the live deployment (None: none, or made before records)."""
    live = selectors.deployment_live(site=site)
    return live.env_keys if live is not None and live.env_keys else None


def site_env_changes(site: Site) -> dict[str, list]:
    """Environment keys added, removed and changed now, since the live release (names only)."""
    return env_key_changes(before=live_env_record(site), after=env_fingerprints(site))


def deployment_record_baseline(deployment: Deployment) -> Deployment:
    """Store on the (claimed) `deployment` the live commit and its environment record and
    changes; the instance gets the same values (the context is built from it next)."""
    site = deployment.site
    deployment.base_commit = selectors.live_commit(site=site)
    deployment.env_keys = env_fingerprints(site)
    deployment.env_changes = env_key_changes(before=live_env_record(site),
                                             after=deployment.env_keys)
    deployment.save(update_fields=["base_commit", "env_keys", "env_changes"])
    return deployment
