"""SQLite, the embedded default of `make run`, under the worker's full concurrency.

One real worker with 32 threads (as scripts/run.sh starts it) and several sites, each on its
own real sshd host, deployed, rolled back and cancelled at the same time, while the test
process checks the servers' connections in a loop and queues checks for the worker too. Every
deployment must end as asked, nothing may report `database is locked`, and every site must
deploy again afterwards (issue 10: a locked finish left a row `running` and the site's later
deployments queued behind it forever).

Runs in `make test`'s SQLite pass (scripts/test.sh); on PostgreSQL there is nothing to test.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection, connections

from deployments.models import FINISHED, Deployment, LogLine, Status, Trigger
from deployments.services import deployment_cancel, rollback_request
from servers.models import Server, ServerStatus
from servers.services import server_check, server_check_request
from sites.services import site_update
from tenancy.audit import Actor
from tests.deployments.workers import Worker, purge_queues
from tests.fixtures.stage import Stage, finished, make_stage, wait_until

pytestmark = [
    pytest.mark.sqlite, pytest.mark.ssh, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite",
                       reason="SQLite-only: `make test` runs it in its SQLite pass"),
    pytest.mark.timeout(900),
]

SITES = 6
ROUNDS = 2
THREADS = 32  # the worker's concurrency in scripts/run.sh
LOCKED = "database is locked"
# Log volume keeps the sinks of every running deployment writing while the others commit.
NOISY_SCRIPT = 'grep DB_PASSWORD "$RELEASE_PATH/.env"; seq 1 300'
SLOW_SCRIPT = "echo slow-step; seq 1 100; sleep 60"


@dataclass
class Ledger:
    """What the test asked for, and what went wrong on the test process's side."""

    expected: dict[int, str] = field(default_factory=dict)  # deployment id -> final status
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expect(self, deployment: Deployment, status: str) -> Deployment:
        with self.lock:
            self.expected[deployment.pk] = status
        return deployment

    def failed(self, what: str, exc: BaseException) -> None:
        with self.lock:
            self.errors.append(f"{what}: {type(exc).__name__}: {exc}")


@pytest.fixture
def worker(transactional_db, tmp_path: Path):
    purge_queues()
    started = Worker.start("sqlite-stress", tmp_path, concurrency=THREADS)
    yield started
    started.stop()


@pytest.fixture
def stages(cast, make_sshd_host, tmp_path: Path) -> list[Stage]:
    made = []
    for n in range(1, SITES + 1):
        stage = make_stage(cast, make_sshd_host(), tmp_path / f"site{n}", name=f"site-{n}",
                           deploy_script=NOISY_SCRIPT)
        # make_stage names every server web-1; names are unique per organization.
        stage.site.servers.update(name=f"site-{n}-web")
        made.append(stage)
    return made


def test_it_deploys_rolls_back_and_cancels_at_full_concurrency_without_locking(
    stages, worker, cast
):
    ledger, done = Ledger(), threading.Event()
    checker = threading.Thread(target=_check_connections, args=(stages, ledger, done))
    checker.start()
    try:
        with ThreadPoolExecutor(len(stages)) as pool:
            list(pool.map(lambda stage: _exercise(stage, cast, ledger), stages))
    finally:
        done.set()
        checker.join(120)

    log = worker.log.read_text(errors="replace")
    assert LOCKED not in log, _lines_with(log, LOCKED)
    assert ledger.errors == []
    outcomes = {row.pk: row.status for row in Deployment.objects.filter(pk__in=ledger.expected)}
    assert outcomes == ledger.expected
    assert not Deployment.objects.exclude(status__in=FINISHED).exists()
    for stage in stages:
        _assert_deployable(stage)


def _exercise(stage: Stage, cast, ledger: Ledger) -> None:
    """ROUNDS of: two deploys, a rollback with a deploy queued behind it, a cancelled deploy."""
    try:
        for n in range(ROUNDS):
            first = ledger.expect(stage.deploy(stage.release(f"{n}.1")), Status.SUCCEEDED)
            _started(first)  # a request while another one waits would supersede it
            second = ledger.expect(stage.deploy(stage.release(f"{n}.2")), Status.SUCCEEDED)
            first, _ = finished(first, second, timeout=240)
            back = ledger.expect(
                rollback_request(site=stage.site, release=first.release, actor=Actor.system(),
                                 trigger=Trigger.MANUAL),
                Status.SUCCEEDED,
            )
            _started(back)
            ahead = ledger.expect(stage.deploy(stage.release(f"{n}.3")), Status.SUCCEEDED)
            finished(back, ahead, timeout=240)
            _cancel_a_running_deploy(stage, cast, ledger, f"{n}.4")
    except Exception as exc:
        ledger.failed(f"site {stage.site.name}", exc)
    finally:
        connections.close_all()


def _started(deployment: Deployment) -> None:
    wait_until(lambda: Deployment.objects.get(pk=deployment.pk).status != Status.QUEUED,
               timeout=240, what=f"deployment {deployment.pk} to start")


def _cancel_a_running_deploy(stage: Stage, cast, ledger: Ledger, version: str) -> None:
    site_update(site=stage.site, actor=Actor.system(), deploy_script=SLOW_SCRIPT)
    slow = ledger.expect(stage.deploy(stage.release(version)), Status.CANCELLED)
    wait_until(lambda: LogLine.objects.filter(deployment=slow, text="slow-step").exists(),
               timeout=240, what=f"the slow step of {stage.site.name}")
    site_update(site=stage.site, actor=Actor.system(), deploy_script=NOISY_SCRIPT)
    deployment_cancel(deployment=slow, actor=Actor(user=cast.developer))
    finished(slow, timeout=120)


def _check_connections(stages: list[Stage], ledger: Ledger, done: threading.Event) -> None:
    """Connection checks in this process, and queued for the worker, until the deploys end."""
    servers = [stage.site.servers.get().pk for stage in stages]
    try:
        while not done.is_set():
            for pk in servers:
                server = Server.objects.select_related("organization").get(pk=pk)
                status = server_check(server)
                if status != ServerStatus.CONNECTED:
                    ledger.failed(f"check of {server.name}", AssertionError(status))
                server_check_request(server=server, actor=Actor.system())
    except Exception as exc:
        ledger.failed("connection checks", exc)
    finally:
        connections.close_all()


def _assert_deployable(stage: Stage) -> None:
    site_update(site=stage.site, actor=Actor.system(), deploy_script=NOISY_SCRIPT)
    [last] = finished(stage.deploy(stage.release("9.9.9")), timeout=120)
    assert last.status == Status.SUCCEEDED, last.error
    assert (stage.deploy_path / "current").readlink().name == last.release


def _lines_with(text: str, needle: str, limit: int = 10) -> str:
    return "\n".join([line for line in text.splitlines() if needle in line][:limit])
