"""A real nginx playing a Deploynix load balancer: its own prefix, pid file and include dir.

The panel writes its generated file into `conf_dir` (over SSH, like on a real balancer) and
runs `test_command` / `reload_command`, which point at this nginx's own config and pid file:
a test machine has no system nginx to signal, and no systemd.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from testbed.web import NGINX_BINARY

START_TIMEOUT = 10.0
RELOAD_TIMEOUT = 10.0
# The master logs (at `notice`) one line per worker it starts: at start, then one per reload.
WORKER_STARTED = "start worker process "

MAIN_CONF = """\
{user}worker_processes 1;
pid {base}/nginx.pid;
error_log {base}/logs/error.log notice;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {base}/temp/body;
    proxy_temp_path {base}/temp/proxy;
    fastcgi_temp_path {base}/temp/fastcgi;
    uwsgi_temp_path {base}/temp/uwsgi;
    scgi_temp_path {base}/temp/scgi;
    include {conf_dir}/*.conf;
}}
"""


def prepare(base: Path) -> Path:
    """Write the main config (including `base/conf.d/*.conf`) and its directories; return it."""
    base = base.resolve()
    for directory in (base / "conf.d", base / "logs", base / "temp"):
        directory.mkdir(parents=True, exist_ok=True)
    user = "user root root;\n" if os.geteuid() == 0 else ""
    conf = base / "nginx.conf"
    conf.write_text(MAIN_CONF.format(user=user, base=base, conf_dir=base / "conf.d"))
    return conf


def nginx_argv(base: Path, *extra: str) -> list[str]:
    base = base.resolve()
    return [NGINX_BINARY, "-p", str(base), "-c", str(base / "nginx.conf"), *extra]


def nginx_test(base: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on the config under `base` (prepare() first)."""
    return subprocess.run(nginx_argv(base, "-t"), capture_output=True, text=True, check=False)


@dataclass
class BalancerNginx:
    """A running balancer nginx under `base`; `conf_dir` is where the panel writes."""

    base: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _workers_started: int = field(default=1, repr=False)

    @classmethod
    def start(cls, base: Path) -> BalancerNginx:
        balancer = cls(base=base.resolve())
        prepare(balancer.base)
        balancer._process = subprocess.Popen(
            nginx_argv(balancer.base, "-g", "daemon off;"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(balancer.base / "logs" / "nginx.out").open("ab"),
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not (balancer.base / "nginx.pid").exists():
            if balancer._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"balancer nginx did not start: {balancer.logs()}")
            time.sleep(0.05)
        return balancer

    @property
    def conf_dir(self) -> Path:
        return self.base / "conf.d"

    @property
    def log_dir(self) -> Path:
        return self.base / "logs"

    @property
    def test_command(self) -> list[str]:
        return nginx_argv(self.base, "-t")

    @property
    def reload_command(self) -> list[str]:
        return nginx_argv(self.base, "-s", "reload")

    def reloads_settled(self, timeout: float = RELOAD_TIMEOUT) -> None:
        """Wait until the master took in a reload since the last call and its old workers are gone.

        `nginx -s reload` only signals the master, which re-reads the config later; checking
        the worker count alone could pass before the signal was handled (the old config still
        live, a new listen port refusing). A new worker started is the proof it was handled.
        """
        deadline = time.monotonic() + timeout
        while True:
            started = self._error_log().count(WORKER_STARTED)
            if started > self._workers_started and len(self._workers()) <= 1:
                self._workers_started = started
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"balancer nginx took in no reload in {timeout:g}s:\n"
                                     f"{self.logs()}")
            time.sleep(0.05)

    def _workers(self) -> list[int]:
        assert self._process is not None
        out = subprocess.run(
            ["pgrep", "-P", str(self._process.pid)], capture_output=True, text=True, check=False
        )
        return [int(pid) for pid in out.stdout.split()]

    def _error_log(self) -> str:
        path = self.base / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        paths = [self.base / "logs" / "error.log", self.base / "logs" / "nginx.out"]
        return "\n".join(p.read_text(errors="replace") for p in paths if p.exists())

    def stop(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._process = None
