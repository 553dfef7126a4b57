"""Measurements on the namespaced fleet: rolling zero downtime behind a load balancer, deploy
time against host count, and 50 sites deployed at once by one worker process."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.fleet import Fleet, cpu_seconds, settle
from bench.hosts import NetnsHost
from bench.scenarios import ZeroDowntime, under_load
from bench.timing import Run, timed


async def rolling_zero_downtime(
    fleet: Fleet, hosts: list[NetnsHost], *, pairs: int, min_requests: int = 0
) -> ZeroDowntime:
    """Rolling deploys/rollbacks of /srv/app on `hosts` while load goes through the balancer."""
    balancer = fleet.balancer(hosts)

    async def deploy_one() -> tuple[str, Run]:
        ctx = fleet.context(hosts)
        return ctx.release, await timed(ctx)

    async def rollback_to(release: str) -> Run:
        return await timed(fleet.context(hosts, kind="rollback", release=release))

    return await under_load(
        deploy_one,
        rollback_to,
        port=balancer.port,
        pairs=pairs,
        label=f"rolling, {len(hosts)} hosts behind nginx (round robin)",
        min_requests=min_requests,
    )


@dataclass
class FleetScaling:
    """Deploy seconds per host count, and the phases (TimingSink.phases) of the median run, as
    Deploynix deploys (the seed fetches once); `before` is the same with every host fetching
    (DeployContext.fleet_fetch="each"), measured in the same run, interleaved. `cpu` holds,
    per (mode, hosts), each run's CPU seconds: mean per web host, the busiest web host, and
    the git host (sshd + everything it ran, bench/fleet.py cpu_seconds)."""

    seconds: dict[int, list[float]] = field(default_factory=dict)
    phases: dict[int, dict[str, float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    before: dict[int, list[float]] = field(default_factory=dict)
    cpu: dict[tuple[str, int], list[tuple[float, float, float]]] = field(default_factory=dict)

    def median(self, count: int) -> float:
        return statistics.median(self.seconds[count])

    def median_before(self, count: int) -> float:
        return statistics.median(self.before[count])

    def cpu_median(self, mode: str, count: int, which: int) -> float:
        """Median CPU seconds: which=0 per web host (mean), 1 busiest web host, 2 git host."""
        return statistics.median(run[which] for run in self.cpu[(mode, count)])


FLEET_MODES = ("each", "once")  # before, after


async def fleet_scaling(fleet: Fleet, counts: tuple[int, ...], *, runs: int) -> FleetScaling:
    """Deploy /srv/fleet to the first N hosts, `runs` times per N and fetch mode (after one
    warm-up each). Round by round every N and both modes take a turn, so a change in the
    machine's load (other work on it) reaches every figure alike rather than one N's."""
    result = FleetScaling()
    found: dict[tuple[str, int], list[Run]] = {}
    for count in counts:
        for mode in FLEET_MODES:  # the first deploy of each mode clones the mirror(s)
            await timed(replace(fleet.context(fleet.hosts[:count], site="fleet"),
                                fleet_fetch=mode))
    for _ in range(runs):
        for count in counts:
            for mode in FLEET_MODES:
                run, cpu = await _measured(fleet, fleet.hosts[:count], mode)
                found.setdefault((mode, count), []).append(run)
                result.cpu.setdefault((mode, count), []).append(cpu)
    for (mode, count), done in found.items():
        result.failures += [run.error for run in done if run.status != "succeeded"]
        seconds = [run.seconds for run in done]
        if mode == "each":
            result.before[count] = seconds
            continue
        result.seconds[count] = seconds
        middle = sorted(done, key=lambda run: run.seconds)[len(done) // 2]
        result.phases[count] = middle.sink.phases()
    return result


async def _measured(
    fleet: Fleet, hosts: list[NetnsHost], mode: str
) -> tuple[Run, tuple[float, float, float]]:
    """One timed deploy and its CPU seconds: (mean per web host, busiest web host, git host)."""
    everyone = [*hosts, fleet.git]
    settle(everyone)
    before = [cpu_seconds(host) for host in everyone]
    run = await timed(replace(fleet.context(hosts, site="fleet"), fleet_fetch=mode))
    settle(everyone)
    spent = [cpu_seconds(host) - start for host, start in zip(everyone, before, strict=True)]
    web = spent[:-1]
    return run, (sum(web) / len(web), max(web), spent[-1])


@dataclass
class Concurrency:
    solo: dict[str, float]
    together: dict[str, float]
    wall: float
    rss_before_mb: float
    rss_peak_mb: float
    failures: list[str]

    def ratios(self) -> list[float]:
        return sorted(self.together[site] / self.solo[site] for site in self.solo)


async def concurrency(fleet: Fleet, sites: int) -> Concurrency:
    """`sites` sites spread over the fleet: each deployed alone, then all at once.

    `rss_before_mb` is taken before any deployment (in a fresh worker: its baseline), the
    peak while all `sites` deployments run at once.
    """
    placed = {f"c{i:02d}": fleet.hosts[i % len(fleet.hosts)] for i in range(sites)}
    before = rss_mb()
    await asyncio.gather(*(timed(fleet.context([h], site=s)) for s, h in placed.items()))  # warm
    solo = {s: (await timed(fleet.context([h], site=s))).seconds for s, h in placed.items()}
    started = time.monotonic()
    async with PeakRss() as memory:
        runs = await asyncio.gather(*(timed(fleet.context([h], site=s)) for s, h in placed.items()))
    wall = time.monotonic() - started
    failures = [run.error for run in runs if run.status != "succeeded"]
    together = {s: run.seconds for s, run in zip(placed, runs, strict=True)}
    return Concurrency(solo, together, wall, before, memory.peak, failures)


class PeakRss:
    """Samples this process's RSS every 20 ms while the block runs; `peak` in MiB."""

    def __init__(self) -> None:
        self.peak = rss_mb()
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> PeakRss:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self.peak = max(self.peak, rss_mb())

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mb())
            await asyncio.sleep(0.02)


def rss_mb(field_name: str = "VmRSS") -> float:
    """This process's resident memory (MiB) from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")
