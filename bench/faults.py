"""Deploys under load with one fault injected in each (issue 10's benchmark, `--only faults`).

Two processes. The bench process (`measure`) never configures Django; it runs
`python -m bench.faults FAULT…`, which starts what the drills may break, all private to the
run: a PostgreSQL cluster (testbed/postgres.py) holding the panel's database and a
redis-server (testbed/redis.py) as broker and channel layer. Then it configures Django
against those two and hands over to bench/faultdrills.py (real Celery workers, beat, sshd,
nginx + php-fpm), which prints the measurements as one JSON object.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg

from testbed.postgres import PostgresCluster
from testbed.redis import RedisServer

ROOT = Path(__file__).resolve().parent.parent
FAULTS = (
    "ssh_drop_before_switch",
    "ssh_drop_after_switch",
    "worker_kill",
    "postgres_restart",
    "redis_restart",
)
# Short, so a lost worker is noticed soon; the settings accept 5 s at the least. Issue 10's
# target for "deployable again" is this plus 5 s.
WATCHDOG_SECONDS = 10
TARGET_SECONDS = WATCHDOG_SECONDS + 5
DATABASE = "deploynix_faults"


@dataclass
class FaultRun:
    """One faulted deployment under load and the deployment requested right after the fault."""

    fault: str
    where: str = ""  # where in the deployment the fault fell, as observed
    requests: int = 0
    non_2xx: int = 0
    socket_errors: int = 0
    truncated: int = 0  # 2xx answers without the page's release marker
    faulted_status: str = ""
    faulted_error: str = ""
    faulted_end_s: float | None = None  # from the fault until the faulted deployment ended
    deployed_again_s: float | None = None  # from the fault until the next one succeeded
    next_status: str = ""
    live_is_next: bool = False  # `current` names the next deployment's release at the end
    before_switch: bool = True  # issue 10's 0-failed target applies to faults before the switch
    # Evidence that the fault hit: what the faulted deployment's log and the workers' and
    # beat's logs said about it after the fault, and how many tracebacks they printed.
    deployment_said: list[str] = field(default_factory=list)
    workers_said: list[str] = field(default_factory=list)
    tracebacks: dict[str, int] = field(default_factory=dict)  # log name -> count
    error: str = ""  # the drill itself could not complete

    @property
    def failed_requests(self) -> int:
        return self.non_2xx + self.socket_errors + self.truncated


@dataclass
class Faults:
    watchdog_seconds: int
    connections: int  # load generator connections
    runs: list[FaultRun] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict) -> Faults:
        runs = [FaultRun(**run) for run in data.pop("runs")]
        return cls(**data, runs=runs)


def measure(faults: tuple[str, ...] = FAULTS) -> Faults:
    """Run the drills in a child process (about 30 s each, plus ~20 s to set up)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.faults", *faults],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
        timeout=1200,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.faults failed (exit {done.returncode}; its stderr is above)")
    return Faults.from_json(json.loads(done.stdout.strip().splitlines()[-1]))


def _create_database(cluster: PostgresCluster) -> None:
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DATABASE}"')


def _django_environment(cluster: PostgresCluster, redis: RedisServer, base: Path) -> dict[str, str]:
    """What `make test` sets (DEPLOYNIX_ENV=test), pointed at the private cluster and Redis."""
    return {
        "DEPLOYNIX_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "deploynix.settings",
        "DATABASE_URL": cluster.url(DATABASE),
        "REDIS_URL": redis.url,
        "DEPLOYNIX_REDIS_PREFIX": f"dnxfaults-{os.getpid()}",
        "DEPLOYNIX_VAR_DIR": str(base / "var"),
        "DEPLOYNIX_WATCHDOG_SECONDS": str(WATCHDOG_SECONDS),
    }


def main() -> None:
    """The child: private PostgreSQL and Redis, Django on them, the drills; prints JSON."""
    names = tuple(sys.argv[1:]) or FAULTS
    base = Path(tempfile.mkdtemp(prefix="deploynix-faults-"))
    cluster = PostgresCluster.create()
    redis = RedisServer.start_in(base / "redis")
    try:
        _create_database(cluster)
        os.environ.update(_django_environment(cluster, redis, base))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        # Imported only now: it reads Django's settings, configured just above.
        from bench import faultdrills

        result = faultdrills.run(names, cluster=cluster, redis=redis, base=base)
    finally:
        redis.stop(signal.SIGKILL)
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
