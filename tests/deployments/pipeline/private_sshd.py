"""Two "servers" on one machine need two filesystems: an sshd whose sessions see a private mount.

A multi-server deploy uses one deploy path on every server. Here both sshd test
hosts share this machine's filesystem, so each one is re-launched (same config,
port and host key) inside its own mount namespace in which `private` is
bind-mounted at the common `mount_point`. Everything else is shared (binaries, the
git repository, the web stack's config), exactly what a second server looks like.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from testbed.sshd import SSHD, SshdHost

# mount + exec with positional arguments: the paths are never part of the script text.
_MOUNT_AND_SERVE = 'mount --bind "$1" "$2" && exec "$3" -D -e -f "$4"'


@dataclass
class PrivateSshd:
    """The sshd of `host`, restarted so its sessions see `private` at `mount_point`."""

    host: SshdHost
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, host: SshdHost, private: Path, mount_point: Path) -> PrivateSshd:
        """Stop `host`'s own sshd and serve its port from a private mount namespace."""
        host.stop()
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", _MOUNT_AND_SERVE]
        argv += ["sh", str(private), str(mount_point), SSHD, str(host.base / "sshd_config")]
        with open(host.log_path, "ab") as log:
            process = subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)
        _wait_for_port(host.host, host.port, process)
        return cls(host, process)

    def stop(self) -> None:
        """Kill the sshd and every session it started (they run in their own process groups)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for pid in _sessions_of(self.host):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.02)
    raise RuntimeError(f"private sshd did not start on {host}:{port}")


def _sessions_of(host: SshdHost) -> list[int]:
    """Pids whose SSH_CONNECTION ends with this sshd's address (its sessions)."""
    suffix = f" {host.host} {host.port}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            environ = (entry / "environ").read_bytes().split(b"\0") if entry.name.isdigit() else []
            if any(v.startswith(b"SSH_CONNECTION=") and v.endswith(suffix) for v in environ):
                found.append(int(entry.name))
    return found
