"""Which environment keys a release changes: names only, never values.

The one source is the site's numbered environment versions (`EnvironmentVersion`,
sites/selectors.py `env_changes_between`): the version the live release shipped
(`Deployment.env_version` of deployments/selectors.py `deployment_live`) against the version a
deploy ships (the newest). The site page, the plan and the release diff all ask here, so they
say the same names.
"""

from __future__ import annotations

from deployments import selectors
from sites.environment import EnvChanges
from sites.models import EnvironmentVersion, Site
from sites.selectors import env_changes_between, env_version_latest

NO_CHANGES = {"added": [], "removed": [], "changed": []}


def live_env_version(site: Site) -> EnvironmentVersion | None:
    """The environment version the live release shipped (None: nothing live, or it was
    deployed before versions were kept)."""
    live = selectors.deployment_live(site=site)
    return live.env_version if live is not None else None


def env_changes_since_live(
    site: Site, shipped: EnvironmentVersion | None = None
) -> EnvChanges | None:
    """What `shipped` (default: the site's newest version, what the next deploy ships) adds,
    removes and changes against the live release's version; None when that is unknown."""
    new = shipped if shipped is not None else env_version_latest(site=site)
    return env_changes_between(live_env_version(site), new)


def env_changes_as_dict(changes: EnvChanges | None) -> dict[str, list]:
    """`changes` as the stored and serialized dict (unknown: no changes)."""
    if changes is None:
        return {name: list(names) for name, names in NO_CHANGES.items()}
    return changes.as_dict()


def env_changes_text(changes: dict[str, list]) -> str:
    """`1 added, 1 changed` ("" when nothing changed)."""
    parts = [f"{len(changes.get(kind) or [])} {kind}" for kind in ("added", "removed", "changed")
             if changes.get(kind)]
    return ", ".join(parts)
