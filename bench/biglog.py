"""Big-log figures for bench/panel.py: the deployment page and the raw download of a
deployment with 100,000 stored lines (issue 17, item 3). Runs inside the panel's child process.

The lines are written with COPY, as the sink stores them. The page is timed through Django's
test client (server time); the download is read through the real ASGI application (what daphne
serves) chunk by chunk and dropped as it arrives, with tracemalloc counting what the server
side holds at its peak: constant memory means the same peak for 10,000 and 100,000 lines.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import tracemalloc
from datetime import UTC, datetime

from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.db import connection
from django.test import Client

from deployments.models import Deployment

REPEATS = 10
WIDTH = 100  # characters per stored line, about a build tool's line


def store_log(deployment: Deployment, count: int) -> None:
    """`count` lines (seq 1…count) for `deployment`, with COPY like the sink."""
    now = datetime.now(UTC)
    with connection.cursor() as cursor, cursor.connection.cursor().copy(
        "COPY deployments_logline (deployment_id, seq, server, stream, text, ts) FROM STDIN"
    ) as copy:
        for seq in range(1, count + 1):
            copy.write_row((deployment.pk, seq, "web1", "out",
                            f"line {seq} ".ljust(WIDTH, "x"), now))


def page_time(client: Client, url: str) -> dict:
    """Median and max server time of `url` over REPEATS requests after a warm-up."""
    assert client.get(url).status_code == 200
    times, cpu = [], []
    for _ in range(REPEATS):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return {"url": url, "median_ms": statistics.median(times) * 1000,
            "max_ms": max(times) * 1000, "cpu_ms": statistics.median(cpu) * 1000,
            "bytes": len(response.content)}


async def asgi_download(path: str, cookie: str) -> tuple[int, int]:
    """GET `path` from deploynix.asgi, reading and dropping the body: (bytes, body messages)."""
    from deploynix.asgi import application

    app = ApplicationCommunicator(application, {
        "type": "http", "method": "GET", "path": path, "query_string": b"", "scheme": "http",
        "headers": [(b"host", b"127.0.0.1"), (b"cookie", cookie.encode())],
        "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000), "http_version": "1.1",
    })
    await app.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await app.receive_output(timeout=60)
    assert start["status"] == 200, start
    size, messages, more = 0, 0, True
    while more:
        message = await app.receive_output(timeout=60)
        more = message.get("more_body", False)
        size += len(message.get("body", b""))
        messages += 1
    return size, messages


def download(path: str, cookie: str) -> dict:
    """One timed download through ASGI with tracemalloc's peak (after a warm-up download)."""
    asyncio.run(asgi_download(path, cookie))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        size, messages = asyncio.run(asgi_download(path, cookie))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return {"url": path, "seconds": time.perf_counter() - started, "bytes": size,
            "messages": messages, "peak_mib": peak / 2**20}


def measure(org, site, owner, counts: tuple[int, ...] = (10_000, 100_000)) -> dict:
    """The page and the download for a deployment of each line count."""
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(owner)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    results = {}
    for count in counts:
        deployment = Deployment.objects.create(
            site=site, organization=org, branch="main", status="succeeded",
            triggered_by_name="panel", release=f"2099{count:010d}")
        started = time.monotonic()
        store_log(deployment, count)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE deployments_logline")
        base = f"/o/{org.slug}/deployments/{deployment.pk}"
        results[count] = {
            "store_seconds": time.monotonic() - started,
            "page": page_time(client, f"{base}/"),
            "download": download(f"{base}/log.txt", cookie),
        }
    return results
