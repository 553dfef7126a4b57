"""Panel timings with 10,000 deployments over 100 sites (run as `python -m bench.panel COUNT`
by bench), and the big-log figures of bench/biglog.py.

Rows are bulk-inserted into the bench's private database; each page is requested through
Django's test client (in process: server time only, no network) after one warm-up request.
Query counts come from an execute wrapper on the connection, for the full data set and for one
of a tenth the size (a constant count is the same in both). Prints one JSON object.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import timedelta

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import biglog  # noqa: E402
from deployments.models import Deployment, DeploymentStep  # noqa: E402
from servers.models import Server  # noqa: E402
from sites.models import Site  # noqa: E402
from tenancy.audit import Actor  # noqa: E402
from tenancy.models import User  # noqa: E402
from tenancy.services.orgs import organization_create  # noqa: E402
from tenancy.services.tokens import api_token_create  # noqa: E402

SITES = 100
REPEATS = 10
STATUSES = ("succeeded",) * 8 + ("failed", "cancelled")


def populate(count: int, slug: str = "panel"):
    """An organization with 3 servers, 100 sites and `count` finished deployments (5 steps each
    for the newest 500, as the history page shows them)."""
    owner = User.objects.create_user(email=f"{slug}@example.test", password="bench-password-1")
    org = organization_create(name=slug.title(), owner=owner, actor=Actor(user=owner), slug=slug)
    servers = [
        Server.objects.create(organization=org, name=f"web{i}", host=f"10.0.{len(slug)}.{i}")
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
                number=n // SITES + 1,
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
    analyze()
    _, token = api_token_create(
        actor=Actor(user=owner), user=owner, organization=org, name="bench", abilities=["site:read"]
    )
    return owner, org, sites[0], token


def analyze() -> None:
    """Fresh planner statistics, as autovacuum keeps them for tables this size: without them
    PostgreSQL plans for the empty tables it saw last (and sorts every row)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(client: Client, url: str, **headers) -> dict:
    """Median server time over REPEATS requests (after a warm-up) and the query count."""
    first = client.get(url, **headers)
    assert first.status_code == 200, (url, first.status_code)
    # Counted by an execute wrapper, not the debug query log: the bench runs Django with
    # DEBUG off, as production does (bench/django_env.py).
    queries: list[str] = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(url, **headers)
    times, cpu = [], []
    for _ in range(REPEATS):
        started, cpu_started = time.perf_counter(), time.process_time()
        client.get(url, **headers)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return {
        "url": url,
        "median_ms": statistics.median(times) * 1000,
        "max_ms": max(times) * 1000,
        # This process's CPU time: what the page costs Django, whatever else the cores run.
        "cpu_ms": statistics.median(cpu) * 1000,
        "queries": len(queries),
    }


def pages_of(org, site) -> dict[str, str]:
    return {
        "dashboard": f"/o/{org.slug}/",
        "deployments list": f"/o/{org.slug}/deployments/",
        "site page": f"/o/{org.slug}/sites/{site.pk}/",
        "site history": f"/o/{org.slug}/sites/{site.pk}/history/",
    }


def small_counts(count: int) -> dict[str, int]:
    """Query counts of the same pages for an organization with a tenth of the deployments."""
    owner, org, site, _token = populate(max(count // 10, SITES), slug="small")
    browser = Client(HTTP_HOST="127.0.0.1")
    browser.force_login(owner)
    return {name: measure(browser, url)["queries"] for name, url in pages_of(org, site).items()}


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    started = time.monotonic()
    owner, org, site, token = populate(count)
    seeded = time.monotonic() - started
    browser = Client(HTTP_HOST="127.0.0.1")
    browser.force_login(owner)
    api = Client(HTTP_HOST="127.0.0.1")
    pages = {name: measure(browser, url) for name, url in pages_of(org, site).items()}
    pages["API site deployments"] = measure(
        api, f"/api/v1/sites/{site.pk}/deployments/", HTTP_AUTHORIZATION=f"Bearer {token}")
    for name, queries in small_counts(count).items():
        pages[name]["queries_small"] = queries
    print(
        json.dumps(
            {"deployments": Deployment.objects.filter(organization=org).count(),
             "sites": SITES, "seed_seconds": seeded, "pages": pages,
             "log": biglog.measure(org, site, owner)}
        )
    )


if __name__ == "__main__":
    main()
