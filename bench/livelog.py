"""Live-log latency and loss, end to end (run as `python -m bench.livelog PORT` by bench).

A real deploy over ssh whose deploy script prints timestamped lines at a fixed rate; the lines
go through the real DeploymentSink (numbered, COPY'd into PostgreSQL, broadcast on the Redis
channel layer) to the consumer at ws/deployments/<id>/ served by a real daphne; a WebSocket
client (websocket-client) records when each line arrives. Latency = arrival − printed time
(same machine, same clock). Lost = printed lines that never arrived over the socket.
Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading
import time

import django

django.setup()

import websocket  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from bench import testbed  # noqa: E402
from bench.testbed import site_context  # noqa: E402
from deployments.models import Deployment, LogLine  # noqa: E402
from deployments.pipeline.context import ServerSpec  # noqa: E402
from sites.models import Site  # noqa: E402
from tenancy.audit import Actor  # noqa: E402
from tenancy.models import User  # noqa: E402
from tenancy.services.orgs import organization_create  # noqa: E402

LINE = re.compile(r"LIVE (\d+) (\d+\.\d+)")

# Runs on the host: print `total` lines at `rate` lines/s, each with its wall-clock time.
PRINTER = """python3 -u - "$@" <<'PY'
import sys, time
rate, total = float(sys.argv[1]), int(sys.argv[2])
start = time.time()
for i in range(total):
    ahead = start + i / rate - time.time()
    if ahead > 0.001:
        time.sleep(ahead)
    sys.stdout.write("LIVE %d %.6f\\n" % (i, time.time()))
PY"""


class SocketRecorder(threading.Thread):
    """Receives the live log of one deployment over a real WebSocket; notes each arrival."""

    def __init__(self, url: str, cookie: str, origin: str) -> None:
        super().__init__(daemon=True)
        self.socket = websocket.create_connection(
            url, header=[f"Cookie: {cookie}"], origin=origin, timeout=30
        )
        self.arrivals: dict[int, float] = {}  # printed line number -> arrival - printed (s)
        self.duplicates = 0
        self.ended = ""  # why the server stopped delivering, if it did
        self.largest = (0, 0)  # (lines, bytes) of the largest message received
        self._closing = False

    def run(self) -> None:
        while True:
            try:
                message = self.socket.recv()
            except (websocket.WebSocketException, OSError) as error:
                if not self._closing:
                    self.ended = f"{type(error).__name__}: {error}"
                return
            now = time.time()
            lines = json.loads(message).get("lines", [])
            self.largest = max(self.largest, (len(lines), len(message.encode())))
            for line in lines:
                match = LINE.search("".join(text for _, text in line["segments"]))
                if not match:
                    continue
                number = int(match.group(1))
                if number in self.arrivals:
                    self.duplicates += 1
                self.arrivals[number] = now - float(match.group(2))

    def wait_for(self, count: int, quiet: float = 10.0) -> None:
        """Until `count` lines arrived or nothing new came for `quiet` seconds."""
        seen, last_change = -1, time.monotonic()
        while len(self.arrivals) < count and time.monotonic() - last_change < quiet:
            if len(self.arrivals) != seen:
                seen, last_change = len(self.arrivals), time.monotonic()
            time.sleep(0.05)
        self._closing = True  # our own close is not the server's doing
        self.socket.close()


def _site_rows(bed: testbed.Bed):
    owner = User.objects.create_user(email="bench@example.test", password="bench-password-1")
    org = organization_create(name="Bench", owner=owner, actor=Actor(user=owner), slug="bench")
    site = Site.objects.create(
        organization=org,
        name="live",
        repository_url="git@example.test:a/b.git",
        deploy_path="/srv/live",
        deploy_key_public="ssh-ed25519 AAAA bench",
        deploy_key_private=bed.deploy_key,
    )
    client = Client()
    client.force_login(owner)
    return (
        org,
        site,
        f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}",
    )


async def _deploy_through_sink(ctx) -> str:
    """What the Celery worker does around the pipeline (deployments/worker.py)."""
    from deployments.worker import run_with_sink

    result = await run_with_sink(ctx)
    return result.status if result.status == "succeeded" else f"{result.status}: {result.error}"


def measure(bed: testbed.Bed, rows, port: int, rate: int, seconds: float) -> dict:
    org, site, cookie = rows
    total = int(rate * seconds)
    release = bed.next_release()
    deployment = Deployment.objects.create(
        site=site,
        organization=org,
        branch="main",
        status="running",
        triggered_by_name="bench",
        release=release,
    )
    recorder = SocketRecorder(
        f"ws://127.0.0.1:{port}/ws/deployments/{deployment.pk}/", cookie, f"http://127.0.0.1:{port}"
    )
    recorder.start()
    deploy_path = bed.base / "srv" / "live"
    ctx = site_context(
        deployment_id=deployment.pk,
        kind="deploy",
        deploy_path=str(deploy_path),
        release=release,
        servers=(ServerSpec("web1", bed.target, deploy_roots=(str(deploy_path.parent),)),),
        git=bed.host,
        repo=bed.repo,
        deploy_key=bed.deploy_key,
        reload_command=(),
        reload_method="none",
        deploy_script=f"{PRINTER}\n".replace('"$@"', f"{rate} {total}"),
    )
    status = asyncio.run(_deploy_through_sink(ctx))
    recorder.wait_for(total)
    # One running deployment per site (a constraint): end this one as the worker would.
    Deployment.objects.filter(pk=deployment.pk).update(status="succeeded")
    stored = LogLine.objects.filter(deployment=deployment, text__startswith="LIVE ").count()
    latencies = sorted(recorder.arrivals.values())
    return {
        "rate": rate,
        "printed": total,
        "stored": stored,
        "received": len(latencies),
        "lost": total - len(latencies),
        "duplicates": recorder.duplicates,
        "status": status,
        "socket_ended": recorder.ended,
        "largest_message": {"lines": recorder.largest[0], "bytes": recorder.largest[1]},
        **{f"p{int(q * 100)}_ms": _quantile(latencies, q) * 1000 for q in (0.5, 0.95, 0.99)},
        "max_ms": (latencies[-1] * 1000) if latencies else None,
    }


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    port = int(sys.argv[1])
    plan = [
        (int(rate), float(seconds)) for rate, seconds in (item.split(":") for item in sys.argv[2:])
    ] or [(1000, 5.0), (10000, 3.0)]
    bed = testbed.build()
    try:
        rows = _site_rows(bed)
        results = [measure(bed, rows, port, rate, seconds) for rate, seconds in plan]
    finally:
        bed.close()
    print(json.dumps({"runs": results}))


if __name__ == "__main__":
    main()
