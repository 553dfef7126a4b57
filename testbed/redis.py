"""A private, throwaway redis-server for fault tests: one that may be killed and started again.

Debian's `redis-server` (package `redis-server`) on a free loopback port, with its data, pid
file and log in a directory of its own. Append-only like the production compose file, so what
Redis had acknowledged survives a restart. Never the shared server on 6379: that one belongs
to everybody's tests.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    base: Path
    port: int
    process: subprocess.Popen | None = None

    @classmethod
    def start_in(cls, base: Path) -> RedisServer:
        if shutil.which("redis-server") is None:
            raise RuntimeError("no redis-server: install Debian's redis-server package")
        base.mkdir(parents=True, exist_ok=True)
        server = cls(base, _free_port())
        server.start()
        return server

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> None:
        """Start (again, on the same port and data directory) and wait until it answers."""
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.base), "--appendonly", "yes", "--save", "",
                "--logfile", str(self.base / "redis.log")]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {self.log_tail()}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        """SIGTERM (a clean shutdown) or SIGKILL (a crash); wait until the port is closed."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        self.process.wait(timeout)
        deadline = time.monotonic() + timeout
        while self.answers() and time.monotonic() < deadline:
            time.sleep(0.05)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def log_tail(self) -> str:
        log = self.base / "redis.log"
        return log.read_text()[-2000:] if log.exists() else "(no log)"
