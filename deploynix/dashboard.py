"""What the organization dashboard shows: servers, sites (live release, drift), deployments."""

from __future__ import annotations

from deploynix.models import Organization


def dashboard_context(org: Organization) -> dict:
    # Imported here: the tenancy core must not depend on the apps at import time.
    from deployments.selectors import deployment_list_recent, sites_with_drift
    from servers.selectors import server_list
    from sites.selectors import site_list

    return {
        "org": org,
        "servers": list(server_list(org=org)),
        "sites": list(site_list(org=org)),
        "deployments": deployment_list_recent(org=org, limit=10),
        # Sites where a server serves something else than the panel believes (reconcile).
        "drift_sites": sites_with_drift(org=org),
    }
