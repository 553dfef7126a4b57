"""Which environment keys a release changes: names only, never values.

Each deployment records its environment as key names with a keyed hash per value
(`env_fingerprints`); the changes since the live release compare those records. Values never
leave the site's encrypted field: the hash is an HMAC under the panel's secret key, so a
recorded hash cannot be checked against guessed values without that key.

`env_key_changes` is the one function pages, the plan and notifications ask; when the site's
environment gets versions of its own, re-point it there.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

from sites.models import Site

NO_CHANGES = {"added": [], "removed": [], "changed": []}


def env_fingerprints(site: Site) -> dict[str, str]:
    """Key name -> a keyed hash of its value (HMAC-SHA256, per site, shortened to 16 hex)."""
    key = f"{settings.SECRET_KEY}:env-fingerprint:{site.pk}".encode()
    return {name: hmac.new(key, f"{name}={value}".encode(), hashlib.sha256).hexdigest()[:16]
            for name, value in sorted(site.env.items())}


def env_key_changes(*, before: dict[str, str] | None, after: dict[str, str]) -> dict[str, list]:
    """Names added, removed and changed from the recorded `before` to `after` (no record of
    `before`, e.g. the first deployment or one made before records existed: no changes)."""
    if before is None:
        return {name: list(names) for name, names in NO_CHANGES.items()}
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": sorted(n for n in before.keys() & after.keys() if before[n] != after[n]),
    }


def env_changes_text(changes: dict[str, list]) -> str:
    """`1 added, 1 changed` ("" when nothing changed)."""
    parts = [f"{len(changes.get(kind) or [])} {kind}" for kind in ("added", "removed", "changed")
             if changes.get(kind)]
    return ", ".join(parts)
