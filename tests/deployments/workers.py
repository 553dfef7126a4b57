"""Real Celery worker processes for end-to-end tests, pointed at the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
READY_TIMEOUT = 60.0


def current_database_url() -> str:
    """The URL of the database this test process uses now (the test database once it exists).

    On SQLite that is a file (settings' TEST NAME): subprocesses open the very same file.
    """
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_env() -> dict[str, str]:
    """The test process's environment, with DATABASE_URL naming the *test* database."""
    env = dict(os.environ)
    env["DATABASE_URL"] = current_database_url()
    env["DEPLOYNIX_REDIS_PREFIX"] = settings.REDIS_PREFIX
    env["DEPLOYNIX_VAR_DIR"] = str(settings.VAR_DIR)  # same encryption keys as this process
    env["DEPLOYNIX_ENV"] = "test"
    return env


def celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "deploynix", *args]


@dataclass
class Worker:
    """One `celery worker --pool threads` process, in its own session (killable as a group)."""

    name: str
    log: Path
    process: subprocess.Popen = field(repr=False)

    @classmethod
    def start(cls, name: str, log_dir: Path, concurrency: int = 4,
              queues: tuple[str, ...] = ("deploy", "default"),
              env: dict[str, str] | None = None) -> Worker:
        """Start it and wait until it consumes `queues`; `env` overrides worker_env()'s
        variables (e.g. REDIS_URL of a private broker, DEPLOYNIX_WATCHDOG_SECONDS)."""
        log = log_dir / f"{name}.log"
        argv = celery("worker", "-Q", ",".join(queues), "--pool", "threads", "-c",
                      str(concurrency), "-n", f"{name}@%h", "-l", "info", "--without-heartbeat",
                      "--without-mingle", "--without-gossip")
        with open(log, "wb") as out:
            process = subprocess.Popen(argv, cwd=BASE_DIR, env={**worker_env(), **(env or {})},
                                       stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        worker = cls(name, log, process)
        worker.wait_ready()
        return worker

    @property
    def hostname(self) -> str:
        return f"{self.name}@{os.uname().nodename}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if b" ready." in self.log.read_bytes():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"worker {self.name} did not start:\n{self.log.read_text()[-3000:]}")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def pause(self) -> None:
        """SIGSTOP the whole worker: a process that hangs (swapping, a debugger, a VM pause)."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL the whole worker (no shutdown, no ack): what a crashed host looks like."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGCONT)  # a paused worker cannot shut down
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def purge_queues() -> None:
    """Drop messages left in this run's queues by earlier tests (stale ids, harmless but slow)."""
    subprocess.run(celery("purge", "-f", "-Q", "deploy,default,control"), cwd=BASE_DIR,
                   env=worker_env(), capture_output=True, check=False, timeout=60)
