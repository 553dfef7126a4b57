"""The measurements: zero downtime under load, deploy and rollback speed, the shell-script floor."""

from __future__ import annotations

import asyncio
import shlex
import statistics
import subprocess
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.load import LoadGenerator, LoadStats
from bench.testbed import Bed, Site
from bench.timing import Run, timed


async def deploy(bed: Bed, site: Site) -> tuple[str, Run]:
    ctx = bed.context(site)
    return ctx.release, await timed(ctx)


async def rollback(bed: Bed, site: Site, release: str) -> Run:
    return await timed(bed.context(site, kind="rollback", release=release))


@dataclass
class ZeroDowntime:
    label: str
    switches: int
    stats: LoadStats
    windows: list[tuple[float, float]] = field(default_factory=list)
    stale: int = 0  # 2xx answers from a release other than the live one, >50 ms after a switch
    failures: list[str] = field(default_factory=list)


async def zero_downtime(
    bed: Bed, site: Site, *, pairs: int, label: str, min_requests: int = 0
) -> ZeroDowntime:
    """`pairs` deploys and `pairs` rollbacks of one host under steady load."""
    return await under_load(
        lambda: deploy(bed, site),
        lambda release: rollback(bed, site, release),
        port=site.stack.http_port,
        pairs=pairs,
        label=label,
        min_requests=min_requests,
    )


async def under_load(
    deploy_one: Callable[[], Awaitable[tuple[str, Run]]],
    rollback_to: Callable[[str], Awaitable[Run]],
    *,
    port: int,
    pairs: int,
    label: str,
    min_requests: int = 0,
    keepalive: bool = True,
    sources: tuple[str, ...] = (),
    interlude: Callable[[str], Awaitable[list[str]]] | None = None,
    hold_until_min: bool = False,
) -> ZeroDowntime:
    """Deploy and roll back `pairs` times while a load generator checks every response.

    A slow (busy) machine serves fewer requests per switch: then more pairs run, up to three
    times `pairs`, until the load generator has sent `min_requests`; with `hold_until_min` the
    load then goes on, without switches, until it has. `interlude(live)` runs once, after the
    first pair, under the same load (deploys that must fail); it returns what went wrong.
    """
    live, first = await deploy_one()
    live_log: list[tuple[float, str]] = [(time.monotonic(), live)]
    windows: list[tuple[float, float]] = []
    failures = [] if first.status == "succeeded" else [first.error]
    async with LoadGenerator("127.0.0.1", port, keepalive=keepalive, sources=sources) as load:
        await asyncio.sleep(1.0)
        done = 0
        while done < pairs or (load.stats.total < min_requests and done < 3 * pairs):
            done += 1
            previous = live
            live, run = await deploy_one()
            _note(run, windows, live_log, live, failures)
            run = await rollback_to(previous)
            live = previous
            _note(run, windows, live_log, live, failures)
            if interlude is not None and done == 1:
                failures += await interlude(live)
        if hold_until_min:
            await _hold(load.stats, min_requests)
        await asyncio.sleep(1.0)
    result = ZeroDowntime(label, 2 * done, load.stats, windows, failures=failures)
    result.stale = _count_stale(load.stats, live_log)
    return result


async def _hold(stats: LoadStats, min_requests: int) -> None:
    """Keep the load running until `min_requests` were sent (or it stops making progress)."""
    seen, still = stats.total, 0
    while stats.total < min_requests and still < 30:
        await asyncio.sleep(1.0)
        still = still + 1 if stats.total == seen else 0
        seen = stats.total


def _note(run: Run, windows, live_log, live: str, failures: list[str]) -> None:
    if run.status != "succeeded":
        failures.append(run.error)
    if run.sink.switch_window:
        windows.append(run.sink.switch_window)
        live_log.append((run.sink.switch_window[1], live))


def _count_stale(stats: LoadStats, live_log: list[tuple[float, str]]) -> int:
    """Responses that came from an old release well after the switch had completed."""
    stale = 0
    for moment, _, release, ok in stats.samples:
        if not ok:
            continue
        expected = [name for switched, name in live_log if switched + 0.05 <= moment]
        before = [name for switched, name in live_log if moment < switched + 0.05]
        if expected and release != expected[-1] and (not before or release != before[0]):
            stale += 1
    return stale


@dataclass
class Speed:
    deploys: list[Run] = field(default_factory=list)
    rollbacks: list[Run] = field(default_factory=list)
    floor_deploy: list[float] = field(default_factory=list)
    floor_rollback: list[float] = field(default_factory=list)
    cap_deploys: list[float] = field(default_factory=list)
    cap_rollbacks: list[float] = field(default_factory=list)
    cap_error: str = ""

    @staticmethod
    def median(runs) -> float:
        """Median seconds of Runs or floats; NaN for none."""
        values = [r.seconds if isinstance(r, Run) else r for r in runs]
        return statistics.median(values) if values else float("nan")

    def step_medians(self) -> dict[str, float]:
        steps: dict[str, list[float]] = defaultdict(list)
        for run in self.deploys:
            for step, seconds in run.sink.durations.items():
                steps[step].append(seconds)
        return {step: statistics.median(values) for step, values in steps.items()}


async def speed(bed: Bed, site: Site, floor_site: Site, *, runs: int, cap=None) -> Speed:
    """Deploynix, the shell floor and Capistrano (if given) take turns, run after run, so all
    three see the same machine load; each first deploys once untimed (cloning its mirror)."""
    sp = Speed()
    await deploy(bed, site)
    await deploy(bed, floor_site)  # the floor script reuses this layout and mirror
    cap = _cap_step(sp, cap, lambda c: c.deploy())
    releases, floor_releases = [], []
    for _ in range(runs):
        release, run = await deploy(bed, site)
        sp.deploys.append(run)
        releases.append(release)
        floor_releases.append(bed.next_release())
        sp.floor_deploy.append(_shell_floor(bed, floor_site, floor_releases[-1]))
        cap = _cap_step(sp, cap, lambda c: sp.cap_deploys.append(c.deploy()))
    for index in range(runs):
        back = -2 if index % 2 == 0 else -1  # alternately one back and forward again
        sp.rollbacks.append(await rollback(bed, site, releases[back]))
        sp.floor_rollback.append(_shell_rollback(bed, floor_site, floor_releases[back]))
        cap = _cap_step(sp, cap, lambda c: sp.cap_rollbacks.append(c.rollback()))
    return sp


def _cap_step(sp: Speed, cap, action):
    """Run one Capistrano action; after a failure, record it and stop using Capistrano."""
    if cap is None:
        return None
    try:
        action(cap)
    except (RuntimeError, OSError) as error:
        sp.cap_error = str(error)
        return None
    return cap


def _ssh(bed: Bed, script: str, *args: str) -> float:
    """Run `script` over ONE OpenSSH connection (the hand-written floor) and time it."""
    key = bed.base / "floor_key"
    if not key.exists():
        key.write_text(bed.client_key)
        key.chmod(0o600)
        (bed.base / "floor_known_hosts").write_text(
            f"[{bed.host.host}]:{bed.host.port} {bed.host.host_key_line}\n"
        )
    argv = [
        "ssh",
        "-i",
        str(key),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        f"UserKnownHostsFile={bed.base / 'floor_known_hosts'}",
        "-p",
        str(bed.host.port),
        f"{bed.host.user}@{bed.host.host}",
        # sshd joins the remote argv with spaces: send it as one quoted command line.
        shlex.join(["bash", "-s", "--", *args]),
    ]
    started = time.monotonic()
    subprocess.run(argv, input=script.encode(), check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


FLOOR_DEPLOY = r"""set -eo pipefail
deploy=$1; release=$2; export GIT_SSH_COMMAND=$3; reload_pid=$4
git --git-dir "$deploy/repo" remote update --prune >/dev/null 2>&1
sha=$(git --git-dir "$deploy/repo" rev-parse main)
mkdir "$deploy/releases/$release"
git --git-dir "$deploy/repo" archive "$sha" | tar -x -C "$deploy/releases/$release"
echo "$sha" > "$deploy/releases/$release/REVISION"
ln -s "releases/$release" "$deploy/current.tmp" && mv -T "$deploy/current.tmp" "$deploy/current"
kill -USR2 "$(cat "$reload_pid")"
"""

FLOOR_ROLLBACK = r"""set -eo pipefail
deploy=$1; release=$2; reload_pid=$3
test -d "$deploy/releases/$release"
ln -s "releases/$release" "$deploy/current.tmp" && mv -T "$deploy/current.tmp" "$deploy/current"
kill -USR2 "$(cat "$reload_pid")"
"""


def _shell_floor(bed: Bed, site: Site, release: str) -> float:
    # The floor fetches with the same deploy key and pinned git host key as the pipeline.
    key, known = bed.base / "floor_deploy_key", bed.base / "floor_git_known_hosts"
    key.write_text(bed.deploy_key)
    key.chmod(0o600)
    known.write_text(f"[{bed.host.host}]:{bed.host.port} {bed.host.host_key_line}\n")
    git_ssh = shlex.join(
        [
            "ssh",
            "-i",
            str(key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            f"UserKnownHostsFile={known}",
            "-o",
            "StrictHostKeyChecking=yes",
        ]
    )
    return _ssh(
        bed, FLOOR_DEPLOY, str(site.deploy_path), release, git_ssh, str(site.stack.fpm_pid_file)
    )


def _shell_rollback(bed: Bed, site: Site, release: str) -> float:
    return _ssh(bed, FLOOR_ROLLBACK, str(site.deploy_path), release, str(site.stack.fpm_pid_file))
