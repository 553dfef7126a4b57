"""A private supervisord for tests: its own config, socket, pid and logs in one directory.

Never the system's supervisor: `Supervisor.start(base)` writes `base/supervisord.conf`
(including `base/conf.d/*.conf`, where Deploynix puts a site's programs) and runs
`supervisord -n` as a child of the test, which `stop()` ends (and supervisord its programs).
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SUPERVISORD = "/usr/bin/supervisord"
SUPERVISORCTL = "/usr/bin/supervisorctl"
START_TIMEOUT = 20.0

_CONFIG = """\
[unix_http_server]
file={base}/supervisor.sock
chmod=0700

[supervisord]
pidfile={base}/supervisord.pid
logfile={base}/supervisord.log
childlogdir={base}/logs
nodaemon=true

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{base}/supervisor.sock

[include]
files = conf.d/*.conf
"""


@dataclass
class Supervisor:
    """One running supervisord; `config` is what a Server's supervisor_config points at."""

    base: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def config(self) -> Path:
        return self.base / "supervisord.conf"

    @classmethod
    def start(cls, base: Path) -> Supervisor:
        (base / "conf.d").mkdir(parents=True, exist_ok=True)
        (base / "logs").mkdir(exist_ok=True)
        supervisor = cls(base)
        supervisor.config.write_text(_CONFIG.format(base=base))
        supervisor._process = subprocess.Popen(  # noqa: S603 — fixed argv, our own config
            [SUPERVISORD, "-n", "-c", str(supervisor.config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while supervisor.ctl("pid").returncode != 0:
            if time.monotonic() > deadline or supervisor._process.poll() is not None:
                supervisor.stop()
                raise RuntimeError(f"supervisord did not start: see {base}/supervisord.log")
            time.sleep(0.1)
        return supervisor

    def ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run supervisorctl against this supervisord."""
        return subprocess.run(  # noqa: S603 — fixed binary, arguments from the test
            [SUPERVISORCTL, "-c", str(self.config), *args], capture_output=True, text=True,
        )

    def stop(self) -> None:
        """End supervisord (it stops its programs first); kill it if it hangs."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
