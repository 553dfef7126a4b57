"""A private, throwaway PostgreSQL cluster for fault tests: one that may be stopped and restarted.

Debian's server binaries (`/usr/lib/postgresql/<version>/bin/{initdb,pg_ctl}`, package
`postgresql`) on a free loopback port, with data, socket and log in a fresh directory under
/tmp (pytest's own tmp directories are private to root, and the server refuses to run as root,
so it runs as `postgres` there). Trust authentication, user `postgres`. Never the shared
server on 5432: that one belongs to everybody's tests.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"no {name}: install Debian's postgresql package (scripts/devenv.py)")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class PostgresCluster:
    base: Path
    port: int

    @classmethod
    def create(cls) -> PostgresCluster:
        """initdb a new cluster and start it."""
        base = Path(tempfile.mkdtemp(prefix="deploynix-pg-"))
        if os.geteuid() == 0:
            shutil.chown(base, SERVER_USER)
        cluster = cls(base, _free_port())
        subprocess.run(_as_server_user([_pg_bin("initdb"), "-D", str(cluster.data), "-U",
                                        "postgres", "--auth=trust", "-E", "UTF8", "-N"]),
                       check=True, capture_output=True)
        cluster.start()
        return cluster

    @classmethod
    def from_env(cls, value: str) -> PostgresCluster:
        """The cluster `env_value()` described (for a child process that must restart it)."""
        base, port = value.rsplit(":", 1)
        return cls(Path(base), int(port))

    def env_value(self) -> str:
        return f"{self.base}:{self.port}"

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def log(self) -> Path:
        return self.base / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        # fsync off: a test cluster loses nothing it needs in a crash, and this machine is slow.
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-l", str(self.log), "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends every session (each client sees its connection terminated)."""
        self._pg_ctl("-m", mode, "stop")

    def restart(self, down_for: float) -> float:
        """Stop, stay down `down_for` seconds, start again; return how long it was away."""
        began = time.monotonic()
        self.stop()
        time.sleep(down_for)
        self.start()
        return time.monotonic() - began

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(_as_server_user([_pg_bin("pg_ctl"), "-D", str(self.data), "-w", *args]),
                       check=True, capture_output=True, timeout=60)
