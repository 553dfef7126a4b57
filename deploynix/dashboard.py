"""What the organization dashboard shows: servers, sites with their live release, recent deployments."""

from __future__ import annotations

from deploynix.models import Organization


def dashboard_context(org: Organization) -> dict:
    # Imported here: the tenancy core must not depend on the apps at import time.
    from deployments.selectors import deployment_list_recent
    from servers.selectors import server_list
    from sites.selectors import site_list

    return {
        "org": org,
        "servers": list(server_list(org=org)),
        "sites": list(site_list(org=org)),
        "deployments": deployment_list_recent(org=org, limit=10),
    }
