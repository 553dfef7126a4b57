"""Panel timings with 10,000 deployments (run as `python -m bench.panel COUNT` by bench).

Rows are bulk-inserted into the bench's private database; each page is requested through
Django's test client (in process: server time only, no network) after one warm-up request.
Query counts come from CaptureQueriesContext. Prints one JSON object.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import timedelta

import django

django.setup()

from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from deployments.models import Deployment, DeploymentStep  # noqa: E402
from servers.models import Server  # noqa: E402
from sites.models import Site  # noqa: E402
from tenancy.audit import Actor  # noqa: E402
from tenancy.models import User  # noqa: E402
from tenancy.services.orgs import organization_create  # noqa: E402
from tenancy.services.tokens import api_token_create  # noqa: E402

SITES = 10
REPEATS = 10
STATUSES = ("succeeded",) * 8 + ("failed", "cancelled")


def populate(count: int):
    """An organization with 3 servers, 10 sites and `count` finished deployments (5 steps each
    for the newest 500, as the history page shows them)."""
    owner = User.objects.create_user(email="panel@example.test", password="bench-password-1")
    org = organization_create(name="Panel", owner=owner, actor=Actor(user=owner), slug="panel")
    servers = [
        Server.objects.create(organization=org, name=f"web{i}", host=f"10.0.0.{i}")
        for i in range(1, 4)
    ]
    sites = []
    for i in range(SITES):
        site = Site.objects.create(
            organization=org,
            name=f"site{i}",
            deploy_path=f"/srv/site{i}",
            repository_url=f"git@example.test:acme/site{i}.git",
            deploy_key_public="ssh-ed25519 AAAA bench",
            deploy_key_private="bench",
        )
        site.servers.set(servers)
        sites.append(site)
    now = timezone.now()
    rows = []
    for n in range(count):
        created = now - timedelta(minutes=count - n)
        rows.append(
            Deployment(
                site=sites[n % SITES],
                organization=org,
                branch="main",
                status=STATUSES[n % 10],
                triggered_by=owner,
                triggered_by_name="panel",
                commit_sha=f"{n:040x}",
                commit_message=f"Change {n}",
                release=created.strftime("%Y%m%d%H%M%S"),
                created_at=created,
                started_at=created,
                finished_at=created + timedelta(seconds=1),
            )
        )
    Deployment.objects.bulk_create(rows, batch_size=2000)
    newest = Deployment.objects.filter(organization=org).order_by("-created_at")[:500]
    DeploymentStep.objects.bulk_create(
        DeploymentStep(
            deployment=d,
            name=name,
            server="web1",
            status="succeeded",
            order=i,
            started_at=d.started_at,
            finished_at=d.finished_at,
            exit_code=0,
        )
        for d in newest
        for i, name in enumerate(("prepare", "fetch_code", "activate", "reload", "cleanup"))
    )
    _, token = api_token_create(
        actor=Actor(user=owner), user=owner, organization=org, name="bench", abilities=["site:read"]
    )
    return owner, org, sites[0], token


def measure(client: Client, url: str, **headers) -> dict:
    """Median server time over REPEATS requests (after a warm-up) and the query count."""
    first = client.get(url, **headers)
    assert first.status_code == 200, (url, first.status_code)
    # Each request starts by clearing the query log; start the capture from an empty log too.
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        client.get(url, **headers)
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        client.get(url, **headers)
        times.append(time.perf_counter() - started)
    return {
        "url": url,
        "median_ms": statistics.median(times) * 1000,
        "max_ms": max(times) * 1000,
        "queries": len(queries),
    }


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    started = time.monotonic()
    owner, org, site, token = populate(count)
    seeded = time.monotonic() - started
    browser = Client(HTTP_HOST="127.0.0.1")
    browser.force_login(owner)
    api = Client(HTTP_HOST="127.0.0.1")
    pages = {
        "dashboard": measure(browser, f"/o/{org.slug}/"),
        "deployments list": measure(browser, f"/o/{org.slug}/deployments/"),
        "site history": measure(browser, f"/o/{org.slug}/sites/{site.pk}/history/"),
        "API site deployments": measure(
            api, f"/api/v1/sites/{site.pk}/deployments/", HTTP_AUTHORIZATION=f"Bearer {token}"
        ),
    }
    print(
        json.dumps(
            {"deployments": Deployment.objects.count(), "seed_seconds": seeded, "pages": pages}
        )
    )


if __name__ == "__main__":
    main()
