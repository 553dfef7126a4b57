"""A load generator that checks every response: status, completeness and which release answered.

wrk counts status codes but not truncated bodies or which release served a request, and
truncated 200s do happen during FPM reloads (docs/benchmarks.md, the misconfigured stack).
This client keeps N keep-alive connections busy and records each response
(`release=<name>` or the demo page's release) with its latency.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from dataclasses import dataclass, field

_RELEASE = re.compile(rb"release[= ](?:<span>)?(\d{14})")


@dataclass
class LoadStats:
    total: int = 0
    ok: int = 0
    non_2xx: int = 0
    socket_errors: int = 0
    truncated: int = 0
    releases: Counter = field(default_factory=Counter)
    # (monotonic time, latency seconds, release or None, ok?)
    samples: list[tuple[float, float, str | None, bool]] = field(default_factory=list)

    def percentile(self, q: float, window: list[tuple[float, float]] | None = None) -> float:
        """Latency percentile (ms) over all samples, or only those inside the time windows."""
        values = sorted(
            lat
            for t, lat, _, _ in self.samples
            if window is None or any(a <= t <= b for a, b in window)
        )
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))] * 1000


async def _one_connection(
    host: str, port: int, path: str, stats: LoadStats, stop: asyncio.Event, keepalive: bool = True,
    source: str | None = None,
):
    close = "" if keepalive else "Connection: close\r\n"
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: deploynix-bench\r\n"
               f"{close}\r\n").encode()
    while not stop.is_set():
        try:
            local = (source, 0) if source else None
            reader, writer = await asyncio.open_connection(host, port, local_addr=local)
        except OSError:
            stats.socket_errors += 1
            await asyncio.sleep(0.01)
            continue
        try:
            while not stop.is_set():
                started = time.monotonic()
                writer.write(request)
                status, body, keep = await _read_response(reader)
                _record(stats, started, status, body)
                if not keep:
                    break
        except (OSError, asyncio.IncompleteReadError, ValueError):
            stats.socket_errors += 1
            stats.total += 1
        finally:
            writer.close()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
    }
    keep = headers.get("connection", "keep-alive").lower() != "close"
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
        return status, body, keep
    body = b""
    while True:  # chunked (PHP output is chunked by nginx)
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body, keep
        body += chunk[:-2]


def _record(stats: LoadStats, started: float, status: int, body: bytes) -> None:
    now = time.monotonic()
    stats.total += 1
    match = _RELEASE.search(body)
    release = match.group(1).decode() if match else None
    good = 200 <= status < 300 and release is not None
    if not 200 <= status < 300:
        stats.non_2xx += 1
    elif release is None:
        stats.truncated += 1
    else:
        stats.ok += 1
        stats.releases[release] += 1
    stats.samples.append((now, now - started, release, good))


class LoadGenerator:
    """Run `connections` keep-alive clients against http://host:port/path until stopped."""

    def __init__(
        self, host: str, port: int, path: str = "/", connections: int = 16, keepalive: bool = True,
        sources: tuple[str, ...] = (),
    ) -> None:
        self.host, self.port, self.path, self.connections = host, port, path, connections
        # Client addresses, one per connection in turn (127.0.N.1 are all loopback): several
        # clients as the balancer sees them, which IP hash needs to spread at all.
        self.sources = sources
        # False: one request per connection, as when measuring reloads of a balancer itself
        # (a graceful nginx reload closes idle keep-alive connections under a client's request).
        self.keepalive = keepalive
        self.stats = LoadStats()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    async def __aenter__(self) -> LoadGenerator:
        self._tasks = [
            asyncio.create_task(
                _one_connection(self.host, self.port, self.path, self.stats, self._stop,
                                self.keepalive, self._source(index))
            )
            for index in range(self.connections)
        ]
        return self

    def _source(self, index: int) -> str | None:
        return self.sources[index % len(self.sources)] if self.sources else None

    async def __aexit__(self, *exc) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
