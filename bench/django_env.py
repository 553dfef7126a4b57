"""The Django side of the benchmark: a private PostgreSQL database, Redis prefix and daphne.

The bench process itself never configures Django: the live-log and panel measurements run in
child processes (`python -m bench.livelog`, `python -m bench.panel`) with this environment,
the same variables `make test` uses (DEPLOYNIX_ENV=test, DATABASE_URL, REDIS_URL).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _devenv(service: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "devenv.py"), service],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return done.stdout.strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class DjangoEnv:
    """A migrated database of our own, a Redis prefix of our own, and their environment."""

    env: dict[str, str]
    admin_url: str
    database: str
    var_dir: Path
    daphne: subprocess.Popen | None = None
    daphne_port: int = 0
    logs: list[Path] = field(default_factory=list)

    @classmethod
    def create(cls) -> DjangoEnv:
        """Create database deploynix_bench_<pid>, migrate it; ~10 s."""
        admin_url, redis_url = _devenv("postgres"), _devenv("redis")
        database = f"deploynix_bench_{os.getpid()}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        var_dir = Path(tempfile.mkdtemp(prefix="deploynix-bench-var-"))
        env = dict(
            os.environ,
            DEPLOYNIX_ENV="test",
            # As in production (deploynix/settings.py refuses DEBUG there): DEBUG wraps every
            # SQL statement in Django's debug cursor, which cost the worker ~30% more CPU.
            DEPLOYNIX_DEBUG="0",
            REDIS_URL=redis_url,
            DATABASE_URL=urlunparse(urlparse(admin_url)._replace(path=f"/{database}")),
            DEPLOYNIX_REDIS_PREFIX=f"dnxbench-{os.getpid()}",
            DEPLOYNIX_VAR_DIR=str(var_dir),
            PYTHONUNBUFFERED="1",
            PYTHONPATH=str(ROOT),
            DJANGO_SETTINGS_MODULE="deploynix.settings",
        )
        django = cls(env, admin_url, database, var_dir)
        django.run_module_text(["manage.py", "migrate", "--no-input", "-v", "0"], script=True)
        return django

    def run_module_text(
        self, argv: list[str], *, script: bool = False, timeout: float = 600
    ) -> str:
        """Run `python -m argv…` (or `python argv…`) with this environment; return its stdout."""
        command = [sys.executable, *argv] if script else [sys.executable, "-m", *argv]
        done = subprocess.run(
            command, env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
            )
        return done.stdout

    def run_json(self, module: str, *args: str) -> dict:
        """Run a measuring child module; it prints one JSON object as its last line."""
        return json.loads(self.run_module_text([module, *args]).strip().splitlines()[-1])

    def start_daphne(self) -> str:
        """A real daphne serving deploynix.asgi:application; returns its base URL."""
        self.daphne_port = _free_port()
        log = self.var_dir / "daphne.log"
        with log.open("ab") as out:
            self.daphne = subprocess.Popen(
                [
                    str(BIN / "daphne"),
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(self.daphne_port),
                    "deploynix.asgi:application",
                ],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{self.daphne_port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.daphne.poll() is not None:
                raise RuntimeError(f"daphne exited: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/login/", timeout=2):  # noqa: S310 - http only
                    return url
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"daphne did not answer: {log.read_text()[-2000:]}")

    def daphne_log(self) -> str:
        """Everything daphne logged so far."""
        log = self.var_dir / "daphne.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def close(self) -> None:
        if self.daphne is not None:
            self.daphne.terminate()
            self.daphne.wait(timeout=15)
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        shutil.rmtree(self.var_dir, ignore_errors=True)
