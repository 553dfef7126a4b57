"""Redis, the broker, restarted mid-deploy; the watchdog apart from a paused deploy worker.

Real processes on a PRIVATE redis-server (testbed/redis.py) that the test kills and starts
again on the same port: a deploy worker (queues deploy, default), a control worker (queue
control: watchdog, schedules) and beat, all with REDIS_URL naming it, and this process's Celery
app sending to it. The shared Redis of the other tests is never touched. The drills of issue 10:
the worker exited on a Redis restart, a trigger made while Redis was down stayed queued until a
human restarted the worker, and a stale watchdog message marked a live deployment failed.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import override_settings
from kombu import pools as kombu_pools

from deployments.celery_schedule import watchdog_tick
from deployments.models import Deployment, LogLine, Status
from deploynix.celery import app as celery_app
from sites.services import site_update
from tenancy.audit import Actor
from testbed.redis import RedisServer
from tests.deployments.workers import BASE_DIR, READY_TIMEOUT, Worker, celery, worker_env
from tests.fixtures.stage import Stage, finished, make_stage, wait_until

pytestmark = [
    pytest.mark.ssh, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

WATCHDOG_SECONDS = 5  # the smallest the settings accept; the watchdog then ticks every second
TICK = watchdog_tick(WATCHDOG_SECONDS)
DEPLOYABLE_AGAIN_WITHIN = WATCHDOG_SECONDS + 5  # the target of issue 10
SLOW_STEP = "slow-step"
WATCHDOG_TASK = "deployments.tasks.watchdog["  # as a worker logs a task it received or ran


@dataclass
class Beat:
    """`celery beat`, in its own session like the workers."""

    log: Path
    process: subprocess.Popen

    @classmethod
    def start(cls, log_dir: Path, env: dict[str, str]) -> Beat:
        log = log_dir / "beat.log"
        argv = celery("beat", "-l", "info", "-s", str(log_dir / "beat-schedule"))
        with open(log, "wb") as out:
            process = subprocess.Popen(argv, cwd=BASE_DIR, env={**worker_env(), **env},
                                       stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        beat = cls(log, process)
        wait_until(lambda: b"beat: Starting" in log.read_bytes() or process.poll() is not None,
                   timeout=READY_TIMEOUT, what="beat to start")
        assert process.poll() is None, log.read_text()[-3000:]
        return beat

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@dataclass
class Rig:
    redis: RedisServer
    deploy_worker: Worker
    control_worker: Worker
    beat: Beat

    def restart_redis(self, sig: int, down_for: float) -> float:
        """Stop Redis with `sig`, keep it away `down_for` s, start it again; when it was back."""
        self.redis.stop(sig)
        time.sleep(down_for)
        self.redis.start()
        return time.monotonic()


@contextmanager
def sending_to(url: str) -> Iterator[None]:
    """Point this process's Celery app (and its pooled connections) at the broker `url`."""
    previous = celery_app.conf.broker_url
    _drop_broker_pools()
    celery_app.conf.broker_url = url
    try:
        yield
    finally:
        _drop_broker_pools()
        celery_app.conf.broker_url = previous


def _drop_broker_pools() -> None:
    # kombu keeps one pool per broker for the whole process: close them all and forget them
    # (a closed pool left registered would refuse every later send to that broker).
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def rig(transactional_db, tmp_path: Path) -> Iterator[Rig]:
    redis = RedisServer.start_in(tmp_path / "redis")
    env = {"REDIS_URL": redis.url, "DEPLOYNIX_WATCHDOG_SECONDS": str(WATCHDOG_SECONDS)}
    started: list = []
    try:
        with sending_to(redis.url), override_settings(DEPLOY_WATCHDOG_SECONDS=WATCHDOG_SECONDS):
            started.append(Worker.start("deploy", tmp_path, env=env))
            started.append(Worker.start("control", tmp_path, concurrency=2,
                                        queues=("control",), env=env))
            started.append(Beat.start(tmp_path, env))
            yield Rig(redis, *started)
    finally:
        for process in reversed(started):
            process.stop()
        redis.stop(signal.SIGKILL)


@pytest.fixture
def stage(cast, sshd_host, tmp_path: Path, rig) -> Stage:
    return make_stage(cast, sshd_host, tmp_path)


def _slow(stage: Stage, seconds: float) -> None:
    site_update(site=stage.site, actor=Actor.system(),
                deploy_script=f"echo {SLOW_STEP}; sleep {seconds}")


def _fast(stage: Stage) -> None:
    site_update(site=stage.site, actor=Actor.system(), deploy_script="echo fast")


def _in_slow_step(deployment: Deployment) -> None:
    wait_until(lambda: LogLine.objects.filter(deployment=deployment, text=SLOW_STEP).exists(),
               what="the slow step to start")


def _live_release(stage: Stage) -> str:
    return (stage.deploy_path / "current").resolve().name


def _log(worker) -> str:
    return worker.log.read_text(errors="replace")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_the_deploy_worker_survives_a_redis_restart_mid_deploy(rig, stage, sig):
    _slow(stage, 6)
    running = stage.deploy(stage.release("1.0.0"))
    _in_slow_step(running)
    rig.restart_redis(sig, down_for=2)

    [running] = finished(running, timeout=90)
    assert rig.deploy_worker.alive and rig.control_worker.alive, _log(rig.deploy_worker)[-3000:]
    assert "Unrecoverable error" not in _log(rig.deploy_worker)
    assert running.status == Status.SUCCEEDED, running.error
    assert _live_release(stage) == running.release

    # Still consuming: a deploy requested now is received and runs.
    _fast(stage)
    [after] = finished(stage.deploy(stage.release("2.0.0")), timeout=60)
    assert after.status == Status.SUCCEEDED, after.error
    assert _live_release(stage) == after.release


def test_a_deploy_requested_while_redis_was_down_runs_soon_after_it_is_back(
    rig, stage, caplog
):
    _fast(stage)
    rig.redis.stop(signal.SIGKILL)
    caplog.set_level(logging.WARNING, logger="deployments.tasks")
    asked = time.monotonic()
    requested = stage.deploy(stage.release("1.0.0"))
    request_seconds = time.monotonic() - asked

    row = Deployment.objects.get(pk=requested.pk)
    assert (row.status, row.enqueued_at) == (Status.QUEUED, None)  # not "sent": it was not
    assert f"deployment {row.pk}: not sent to the broker" in caplog.text
    assert request_seconds < 10  # the request is not held up by the outage

    time.sleep(3)
    rig.redis.start()
    back = time.monotonic()
    wait_until(lambda: Deployment.objects.get(pk=row.pk).started_at, timeout=60,
               what="the deployment to start")
    started_after = time.monotonic() - back
    [row] = finished(row, timeout=60)

    assert row.status == Status.SUCCEEDED, row.error
    assert started_after <= DEPLOYABLE_AGAIN_WITHIN, f"started {started_after:.1f}s after Redis"
    assert row.enqueued_at is not None
    assert rig.deploy_worker.alive and rig.control_worker.alive


def test_the_control_worker_frees_a_site_whose_deploy_worker_is_paused(rig, stage):
    _slow(stage, 10)
    stuck = stage.deploy(stage.release("1.0.0"))
    _in_slow_step(stuck)
    rig.deploy_worker.pause()
    paused = time.monotonic()
    try:
        [stuck] = finished(stuck, timeout=60)
        freed_after = time.monotonic() - paused
    finally:
        rig.deploy_worker.resume()

    assert (stuck.status, "worker lost" in stuck.error) == (Status.FAILED, True), stuck.error
    assert freed_after <= DEPLOYABLE_AGAIN_WITHIN, f"freed {freed_after:.1f}s after the pause"
    assert WATCHDOG_TASK in _log(rig.control_worker)
    assert WATCHDOG_TASK not in _log(rig.deploy_worker)

    _fast(stage)
    [nxt] = finished(stage.deploy(stage.release("2.0.0")), timeout=90)
    assert nxt.status == Status.SUCCEEDED, nxt.error
    assert _live_release(stage) == nxt.release


def test_a_watchdog_message_that_waited_past_its_expiry_never_acts(rig, stage):
    """The drill's stale message: it waited while the deployment it would judge was paused."""
    _slow(stage, 15)
    live = stage.deploy(stage.release("1.0.0"))
    _in_slow_step(live)

    rig.control_worker.pause()
    time.sleep(4 * TICK)  # beat keeps sending; the messages wait in Redis
    rig.beat.stop()  # from now on no fresh watchdog message
    rig.deploy_worker.pause()
    time.sleep(WATCHDOG_SECONDS + 2)  # the heartbeat is stale: a watchdog acting now would fail it
    seen = len(_log(rig.control_worker))
    rig.control_worker.resume()
    time.sleep(3)  # time to work through what waited
    assert Deployment.objects.get(pk=live.pk).status == Status.RUNNING
    assert f"Discarding revoked task: {WATCHDOG_TASK}" in _log(rig.control_worker)[seen:]
    rig.deploy_worker.resume()

    [live] = finished(live, timeout=90)
    assert live.status == Status.SUCCEEDED, live.error
    assert _live_release(stage) == live.release
    assert _watchdog_runs(_log(rig.control_worker)[seen:]) == []


def _watchdog_runs(log: str) -> list[str]:
    """The lines of a worker log saying a watchdog task ran and acted (failed or requeued a
    deployment). A run that acted on nothing may be one that started before the worker was
    paused and, on a loaded machine, logged its end only after the resume."""
    return [
        line for line in log.splitlines()
        if WATCHDOG_TASK in line and "succeeded" in line
        and "{'failed': [], 'requeued': []}" not in line
    ]
