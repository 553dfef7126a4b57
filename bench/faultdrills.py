"""The fault drills of `make bench` (run by bench/faults.py once Django is configured).

One site on a real sshd host, served by its own nginx + php-fpm (bench/testbed.py), deployed
by real Celery workers (tests/deployments/workers.py) with beat and a control worker running
the watchdog (tests/faults/test_broker.py's Beat), on the private PostgreSQL and Redis that
bench/faults.py started. For each fault: steady HTTP load on the site (bench/load.py, every
answer checked), a deployment requested, the fault injected at its moment, the next
deployment requested at once (it queues behind the faulted one), both waited for.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from django.db import connections

from bench import testbed
from bench.faults import WATCHDOG_SECONDS, FaultRun, Faults
from bench.load import LoadGenerator, LoadStats
from deployments.models import Deployment, LogLine, Status
from sites.services import site_update
from tenancy.audit import Actor
from tenancy.models import User
from tenancy.services.orgs import organization_create
from testbed.postgres import PostgresCluster
from testbed.redis import RedisServer
from tests.deployments.workers import Worker
from tests.faults.test_broker import Beat
from tests.fixtures.stage import Stage, finished, make_stage, wait_until

CONNECTIONS = 4  # modest: this machine has 2 cores, shared with workers, sshd and php-fpm
SLOW_STEP = "slow-step"
FAST_SCRIPT = "echo fast"
# The reload waits before signalling php-fpm, so a drop right after the switch falls
# before the reload took effect (between the switch and the reload).
SLOW_RELOAD_DELAY = 1.0
DEPLOY_TIMEOUT = 120.0
# Log lines that tell about an outage (deployments/dbretry.py, the pipeline's session,
# Celery's consumer, the watchdog).
ABOUT_IT = re.compile(r"connection (lost|back)|reconnect|broker|worker lost|unreachable|fenc",
                      re.IGNORECASE)
EVIDENCE_LINES = 3


def _slow_script(seconds: float) -> str:
    return f"echo {SLOW_STEP}; sleep {seconds}"


class BackgroundLoad:
    """bench.load's LoadGenerator on a thread of its own: the drills block on the database."""

    def __init__(self, port: int, connections: int = CONNECTIONS) -> None:
        self.port, self.connections = port, connections
        self.stats = LoadStats()
        self._running, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        async with LoadGenerator("127.0.0.1", self.port, connections=self.connections) as load:
            self.stats = load.stats
            self._running.set()
            while not self._stop.is_set():
                await asyncio.sleep(0.05)

    def __enter__(self) -> BackgroundLoad:
        self._thread.start()
        self._running.wait(10)
        time.sleep(0.5)  # every connection busy before the deployment starts
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.5)  # answers just after the deployment count too
        self._stop.set()
        self._thread.join(30)


@dataclass
class Rig:
    bed: testbed.Bed
    web: testbed.Site
    stage: Stage
    cluster: PostgresCluster
    redis: RedisServer
    log_dir: Path
    deploy_worker: Worker | None = None
    control_worker: Worker | None = None
    beat: Beat | None = None
    _workers: int = 0

    def start_deploy_worker(self) -> Worker:
        self._workers += 1
        return Worker.start(f"deploy{self._workers}", self.log_dir, concurrency=4)

    def set_site(self, script: str, reload_delay: float = 0.0) -> None:
        reload_command = list(self.web.stack.reload_command)
        if reload_delay:
            reload_command[2] = f"sleep {reload_delay}; {reload_command[2]}"
        site_update(site=self.stage.site, actor=Actor.system(), deploy_script=script,
                    reload_command=reload_command)

    def log_sizes(self) -> dict[Path, int]:
        """Bytes written so far to each worker's and beat's log."""
        return {path: path.stat().st_size for path in sorted(self.log_dir.glob("*.log"))}

    def live(self) -> str:
        return (self.web.deploy_path / "current").resolve().name

    def close(self) -> None:
        for process in (self.beat, self.control_worker, self.deploy_worker):
            if process is not None:
                process.stop()
        self.bed.close()


def build_rig(cluster: PostgresCluster, redis: RedisServer, base: Path) -> Rig:
    """The site (one sshd host, its web stack), its rows, the workers, beat; one warm-up deploy."""
    bed = testbed.build()
    web = bed.add_site("faults")
    owner = User.objects.create_user(email="faults@example.test", password="bench-password-1")
    org = organization_create(name="Faults", owner=owner, actor=Actor(user=owner), slug="faults")
    stage = make_stage(SimpleNamespace(org=org, owner=owner), bed.host, bed.base / "stage",
                       deploy_path=str(web.deploy_path), reload_method="php-fpm",
                       reload_command=list(web.stack.reload_command), deploy_script=FAST_SCRIPT)
    log_dir = base / "logs"
    log_dir.mkdir()
    rig = Rig(bed, web, stage, cluster, redis, log_dir)
    try:
        rig.deploy_worker = rig.start_deploy_worker()
        rig.control_worker = Worker.start("control", log_dir, concurrency=2, queues=("control",))
        rig.beat = Beat.start(log_dir, {})
        [first] = finished(stage.deploy(stage.release("0.0.1")), timeout=DEPLOY_TIMEOUT)
        if first.status != Status.SUCCEEDED:
            raise RuntimeError(f"the warm-up deploy failed: {first.error}")
    except BaseException:
        rig.close()
        raise
    return rig


def _in_slow_step(deployment: Deployment) -> None:
    wait_until(lambda: LogLine.objects.filter(deployment=deployment, text=SLOW_STEP).exists(),
               timeout=60, what="the slow step to start")


# Each fault: waits for its moment in `faulted`, injects the fault, returns (the wall-clock
# time of the fault, where it fell).
Inject = Callable[[Rig, Deployment], tuple[float, str]]


def _drop_mid_step(rig: Rig, faulted: Deployment) -> tuple[float, str]:
    _in_slow_step(faulted)
    at = time.time()
    killed = rig.bed.host.drop_connections()
    return at, f"in the deploy script, before the switch (sshd processes killed: {killed})"


def _drop_after_switch(rig: Rig, faulted: Deployment) -> tuple[float, str]:
    current = rig.web.deploy_path / "current"
    before, deadline = os.readlink(current), time.monotonic() + 60
    while os.readlink(current) == before:  # wait_until's 0.2 s would be too coarse here
        if time.monotonic() > deadline:
            raise RuntimeError("the faulted deployment never switched")
        time.sleep(0.005)
    at = time.time()
    killed = rig.bed.host.drop_connections()
    return at, (f"`current` switched, php-fpm not reloaded yet (sshd processes killed: "
                f"{killed}; the reload waits {SLOW_RELOAD_DELAY:.0f} s before signalling)")


def _kill_worker(rig: Rig, faulted: Deployment) -> tuple[float, str]:
    _in_slow_step(faulted)
    spare = rig.start_deploy_worker()  # a second worker, as in production: it takes over
    victim, rig.deploy_worker = rig.deploy_worker, spare
    at = time.time()
    victim.kill()
    return at, "in the deploy script, before the switch (SIGKILL to the worker's process group)"


def _restart_postgres(rig: Rig, faulted: Deployment) -> tuple[float, str]:
    _in_slow_step(faulted)
    at = time.time()
    away = rig.cluster.restart(down_for=1.0)
    connections.close_all()  # this process's connections ended with the server, too
    return at, f"in the deploy script, before the switch (server away {away:.1f} s)"


def _restart_redis(rig: Rig, faulted: Deployment) -> tuple[float, str]:
    _in_slow_step(faulted)
    at = time.time()
    rig.redis.stop(signal.SIGKILL)
    time.sleep(2.0)
    rig.redis.start()
    return at, f"in the deploy script, before the switch (SIGKILL, away {time.time() - at:.1f} s)"


# fault -> (deploy script of the faulted deployment, reload delay, inject, before the switch?)
DRILLS: dict[str, tuple[str, float, Inject, bool]] = {
    "ssh_drop_before_switch": (_slow_script(3), 0.0, _drop_mid_step, True),
    "ssh_drop_after_switch": (FAST_SCRIPT, SLOW_RELOAD_DELAY, _drop_after_switch, False),
    # Long: the killed worker's script keeps running on the host until the reconcile fences it.
    "worker_kill": (_slow_script(60), 0.0, _kill_worker, True),
    "postgres_restart": (_slow_script(3), 0.0, _restart_postgres, True),
    "redis_restart": (_slow_script(3), 0.0, _restart_redis, True),
}


def drill(rig: Rig, name: str, number: int) -> FaultRun:
    script, reload_delay, inject, before_switch = DRILLS[name]
    outcome = FaultRun(fault=name, before_switch=before_switch)
    rig.set_site(script, reload_delay)
    with BackgroundLoad(rig.web.stack.http_port) as load:
        faulted = rig.stage.deploy(rig.stage.release(f"{number}.0.0"))
        logs = rig.log_sizes()
        fault_at, outcome.where = inject(rig, faulted)
        rig.set_site(FAST_SCRIPT)
        following = rig.stage.deploy(rig.stage.release(f"{number}.1.0"))
        [faulted, following] = finished(faulted, following, timeout=DEPLOY_TIMEOUT)
    stats = load.stats
    outcome.requests, outcome.non_2xx = stats.total, stats.non_2xx
    outcome.socket_errors, outcome.truncated = stats.socket_errors, stats.truncated
    outcome.faulted_status, outcome.faulted_error = faulted.status, faulted.error[:300]
    outcome.faulted_end_s = faulted.finished_at.timestamp() - fault_at
    outcome.next_status = following.status
    if following.status == Status.SUCCEEDED:
        outcome.deployed_again_s = following.finished_at.timestamp() - fault_at
    else:
        outcome.error = f"the next deployment {following.status}: {following.error[:300]}"
    outcome.live_is_next = rig.live() == following.release
    _gather_evidence(outcome, rig, faulted, logs)
    return outcome


def _gather_evidence(outcome: FaultRun, rig: Rig, faulted: Deployment,
                     logs: dict[Path, int]) -> None:
    said = LogLine.objects.filter(deployment=faulted).values_list("text", flat=True)
    outcome.deployment_said = [t[:160] for t in said if ABOUT_IT.search(t)][:EVIDENCE_LINES]
    lines = []
    for path in rig.log_sizes():
        with path.open("rb") as log:
            log.seek(logs.get(path, 0))  # only what was written after the fault
            new = log.read().decode(errors="replace")
        if new.count("Traceback"):
            outcome.tracebacks[path.stem] = new.count("Traceback")
        lines += [f"{path.stem}: {_without_stamp(line)[:160]}"
                  for line in new.splitlines() if ABOUT_IT.search(line)]
    outcome.workers_said = lines[:EVIDENCE_LINES]


def _without_stamp(line: str) -> str:
    """A Celery log line without its `[date time: LEVEL/Process]` prefix."""
    return re.sub(r"^\[[^]]*\]\s*", "", line).strip()


def run(names: tuple[str, ...], *, cluster: PostgresCluster, redis: RedisServer,
        base: Path) -> Faults:
    """Every drill in `names`, in order, on one rig; a drill that breaks is recorded."""
    result = Faults(watchdog_seconds=WATCHDOG_SECONDS, connections=CONNECTIONS)
    rig = build_rig(cluster, redis, base)
    try:
        for number, name in enumerate(names, start=1):
            try:
                result.runs.append(drill(rig, name, number))
            except Exception as error:  # noqa: BLE001 - reported in the document
                connections.close_all()
                result.runs.append(FaultRun(fault=name, error=f"{type(error).__name__}: "
                                                              f"{str(error)[:400]}"))
    finally:
        rig.close()
    return result
