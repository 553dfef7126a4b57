"""Follow a deployment's stored log from a terminal (the management commands)."""

from __future__ import annotations

import time
from typing import TextIO

from django.core.management.base import CommandError

from deployments import selectors
from deployments.models import Deployment, Status
from sites.models import Site
from sites.selectors import site_get_by_name

POLL_SECONDS = 0.3


def site_for_cli(name: str, org_slug: str | None) -> Site:
    """The site called `name` (in `org_slug`), or CommandError if none or ambiguous."""
    sites = site_get_by_name(name=name, org_slug=org_slug)
    if not sites:
        raise CommandError(f"No site called {name!r}" + (f" in {org_slug}" if org_slug else ""))
    if len(sites) > 1:
        orgs = ", ".join(sorted(site.organization.slug for site in sites))
        raise CommandError(f"Several sites are called {name!r} ({orgs}): pass --org.")
    return sites[0]


def follow(deployment_id: int, out: TextIO, *, poll: float = POLL_SECONDS) -> Deployment:
    """Print every stored line (by seq) until the deployment has finished; return the row."""
    last = 0
    while True:
        # Read the status BEFORE the lines: lines stored before it finished are then all seen.
        deployment = Deployment.objects.get(pk=deployment_id)
        lines = selectors.log_lines(deployment_id=deployment_id, after=last)
        for line in lines.iterator(chunk_size=1000):
            out.write(f"[{line.server}] {line.text}\n" if line.server else f"{line.text}\n")
            last = line.seq
        if deployment.is_finished:
            return deployment
        time.sleep(poll)


def finish_cli(deployment: Deployment, out: TextIO) -> None:
    """Print the outcome; CommandError (exit status 1) unless it succeeded."""
    if deployment.status == Status.SUCCEEDED:
        out.write(f"{deployment.get_kind_display()} {deployment.label} succeeded: "
                  f"release {deployment.release} ({deployment.short_commit})\n")
        return
    detail = f" at {deployment.failed_step}" if deployment.failed_step else ""
    raise CommandError(
        f"{deployment.get_kind_display()} {deployment.label} {deployment.status}{detail}: "
        f"{deployment.error}".rstrip(": "),
        returncode=1,
    )
