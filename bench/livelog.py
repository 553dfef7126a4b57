"""Live-log latency and loss, end to end (run as `python -m bench.livelog PORT` by bench).

A real deploy over ssh whose deploy script prints timestamped lines at a fixed rate; the lines
go through the real DeploymentSink (numbered, broadcast on the Redis channel layer, COPY'd into
PostgreSQL) to the consumer at ws/deployments/<id>/ served by a real daphne; a WebSocket
client (websocket-client, in a child process) records when each line arrives. Latency =
arrival − printed time (same machine, same clock), also split at the worker's receipt of the
line (its stored `ts`). Lost = printed lines that never arrived over the socket. CPU: this
process (the worker's part: pipeline and sink) and daphne, per run, less a deploy printing
nothing. Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import re
import resource
import sys
import threading
import time
from pathlib import Path

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
        # skip_utf8_validation: websocket-client checks UTF-8 in pure Python without wsaccel
        # (~10 ms a 58 KiB frame here, the client's biggest cost at 10,000 lines/s); the text
        # is still decoded as UTF-8 (in C), which fails on invalid bytes all the same.
        self.socket = websocket.create_connection(
            url, header=[f"Cookie: {cookie}"], origin=origin, timeout=30,
            skip_utf8_validation=True,
        )
        self.arrivals: dict[int, float] = {}  # printed line number -> arrival - printed (s)
        self.panel_hops: list[float] = []  # arrival - receipt by the worker (the line's ts)
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
                self.panel_hops.append(now - line["ts"])

    def wait_for(self, count: int, quiet: float = 10.0) -> None:
        """Until `count` lines arrived or nothing new came for `quiet` seconds."""
        seen, last_change = -1, time.monotonic()
        while len(self.arrivals) < count and time.monotonic() - last_change < quiet:
            if len(self.arrivals) != seen:
                seen, last_change = len(self.arrivals), time.monotonic()
            time.sleep(0.05)
        self._closing = True  # our own close is not the server's doing
        self.socket.close()

    def result(self) -> dict:
        return {"arrivals": self.arrivals, "duplicates": self.duplicates, "ended": self.ended,
                "largest": self.largest, "panel_hops": sorted(self.panel_hops)}


def _record(pipe, url: str, cookie: str, origin: str) -> None:
    """The browser's stand-in, in a process of its own: parsing 20,000 lines/s of JSON in the
    worker's process would take the GIL from the sink it measures (and bill it the CPU)."""
    recorder = SocketRecorder(url, cookie, origin)
    recorder.start()
    pipe.send("connected")
    recorder.wait_for(pipe.recv())  # the number of lines printed, sent once the deploy ended
    pipe.send(recorder.result())


class Browser:
    """A SocketRecorder running in a child process (started before the deploy)."""

    def __init__(self, url: str, cookie: str, origin: str) -> None:
        self._pipe, child = multiprocessing.Pipe()
        # fork: the child needs nothing but the modules already imported here.
        self._process = multiprocessing.get_context("fork").Process(
            target=_record, args=(child, url, cookie, origin), daemon=True
        )
        self._process.start()
        if self._pipe.recv() != "connected":
            raise RuntimeError("the recording browser did not connect")

    def result(self, count: int) -> dict:
        self._pipe.send(count)
        result = self._pipe.recv()
        self._process.join(timeout=30)
        return result


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (/proc/<pid>/stat, clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """This process's user + system CPU time, every thread (the database thread too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def daphne_pid(port: int) -> int:
    """The daphne serving `port` (bench/django_env.py starts it with `-p <port>`)."""
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part.endswith(b"daphne") for part in argv) and str(port).encode() in argv:
            return int(entry.name)
    raise RuntimeError(f"no daphne process serves port {port}")


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
    """One deploy printing `rate` lines/s for `seconds`, recorded by a browser on the socket;
    with the CPU time the worker (this process) and daphne spent meanwhile."""
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
    browser = Browser(
        f"ws://127.0.0.1:{port}/ws/deployments/{deployment.pk}/", cookie, f"http://127.0.0.1:{port}"
    )
    daphne = daphne_pid(port)
    cpu = own_cpu_seconds(), cpu_seconds(daphne)
    status = asyncio.run(_deploy_through_sink(_context(bed, deployment.pk, release, rate, total)))
    seen = browser.result(total)
    cpu = own_cpu_seconds() - cpu[0], cpu_seconds(daphne) - cpu[1]
    # One running deployment per site (a constraint): end this one as the worker would.
    Deployment.objects.filter(pk=deployment.pk).update(status="succeeded")
    latencies = sorted(seen["arrivals"].values())
    return {
        "rate": rate,
        "printed": total,
        "stored": LogLine.objects.filter(deployment=deployment, text__startswith="LIVE ").count(),
        "received": len(latencies),
        "lost": total - len(latencies),
        "duplicates": seen["duplicates"],
        "status": status,
        "socket_ended": seen["ended"],
        "largest_message": {"lines": seen["largest"][0], "bytes": seen["largest"][1]},
        **_quantiles_ms(latencies),
        "max_ms": (latencies[-1] * 1000) if latencies else None,
        # Where the time went: print → receipt by the worker (SSH), receipt → browser (the
        # sink's batching, Redis, daphne, the socket).
        "ssh_hop": _quantiles_ms(_ssh_hop(deployment.pk)),
        "panel_hop": _quantiles_ms(seen["panel_hops"]),
        "worker_cpu_s": cpu[0],
        "daphne_cpu_s": cpu[1],
    }


def _context(bed: testbed.Bed, deployment_id: int, release: str, rate: int, total: int):
    deploy_path = bed.base / "srv" / "live"
    return site_context(
        deployment_id=deployment_id,
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


def _ssh_hop(deployment_id: int) -> list[float]:
    """Seconds from print on the host to receipt by the worker (the stored `ts`), per line:
    the part of the latency before the sink, which the sink cannot shorten."""
    hops = []
    for text, ts in LogLine.objects.filter(
        deployment_id=deployment_id, text__startswith="LIVE "
    ).values_list("text", "ts").iterator():
        match = LINE.search(text)
        if match:
            hops.append(ts.timestamp() - float(match.group(2)))
    return sorted(hops)


def _quantiles_ms(values: list[float]) -> dict:
    return {f"p{int(q * 100)}_ms": _quantile(values, q) * 1000 for q in (0.5, 0.95, 0.99)}


def with_cpu_per_1000(runs: list[dict], empty: dict) -> list[dict]:
    """Each run's CPU per 1,000 lines, after taking off what a deploy printing nothing cost
    (`empty`: git, the release, the steps' own frames)."""
    for run in runs:
        lines = max(run["printed"], 1) / 1000
        run["worker_cpu_ms_per_1000"] = (run["worker_cpu_s"] - empty["worker_cpu_s"]) * 1000 / lines
        run["daphne_cpu_ms_per_1000"] = (run["daphne_cpu_s"] - empty["daphne_cpu_s"]) * 1000 / lines
    return runs


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    port = int(sys.argv[1])
    plan = [
        (int(rate), float(seconds)) for rate, seconds in (item.split(":") for item in sys.argv[2:])
    ] or [(1000, 5.0), (10000, 3.0), (20000, 3.0)]
    bed = testbed.build()
    try:
        rows = _site_rows(bed)
        empty = measure(bed, rows, port, 1000, 0)
        results = [measure(bed, rows, port, rate, seconds) for rate, seconds in plan]
    finally:
        bed.close()
    print(json.dumps({"runs": with_cpu_per_1000(results, empty), "empty_deploy": empty}))


if __name__ == "__main__":
    main()
