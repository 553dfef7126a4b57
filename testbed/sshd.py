"""Real OpenSSH sshd test hosts on loopback, for tests, the demo and benchmarks.

Each host is one `/usr/sbin/sshd -D -e` with its own config, host key, authorized
keys file and pid file under `base/`. It logs in as the current user (root here,
or a normal user on a high port) and gives a `root` directory to deploy into.

Run one in the foreground (for `make run`):

    python -m testbed.sshd serve --dir DIR [--port N] --authorized-keys FILE
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
HOST = "127.0.0.1"
START_TIMEOUT = 10.0

_CONFIG = """\
Port {port}
ListenAddress {host}
HostKey {host_key}
PidFile {pid_file}
AuthorizedKeysFile {authorized_keys}
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowUsers {user}
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
LoginGraceTime 30
# The pipeline opens many channels per connection, and benchmarks run ~50
# deploys at once: the defaults (10 sessions, 10 pending logins) would refuse them.
MaxSessions 200
MaxStartups 500
Subsystem sftp internal-sftp
# bash sources ~/.bashrc for `ssh host cmd` when SHLVL < 2. This machine's root
# .bashrc runs `pyenv init` (~100 processes, ~110 ms per command); a test host
# should not pay for the developer's shell setup on every command.
SetEnv SHLVL=1
LogLevel VERBOSE
"""


@dataclass
class SshdHost:
    """One running sshd on 127.0.0.1 that accepts the given public keys."""

    host: str
    port: int
    user: str
    root: Path
    host_key_line: str
    base: Path
    authorized_keys_file: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @classmethod
    def start(
        cls,
        base: Path,
        *,
        authorized_keys: Sequence[str] = (),
        port: int | None = None,
        authorized_keys_file: Path | None = None,
    ) -> SshdHost:
        """Start sshd in `base` (created) and wait until its port accepts connections.

        The host key in `base` is reused if present, so a pinned key stays valid
        across restarts. `authorized_keys_file` (optional) is used in place of
        `base/authorized_keys`, so keys written there later are accepted live.
        """
        base = Path(base).resolve()
        base.mkdir(parents=True, exist_ok=True)
        keys_file = Path(authorized_keys_file or base / "authorized_keys").resolve()
        if authorized_keys_file is None:
            keys_file.write_text("".join(f"{line.strip()}\n" for line in authorized_keys))
        elif authorized_keys:
            _append_lines(keys_file, authorized_keys)
        host = cls(
            host=HOST,
            port=port or 0,
            user=pwd.getpwuid(os.getuid()).pw_name,
            root=base / "srv",
            host_key_line=ensure_host_key(base / "ssh_host_ed25519_key"),
            base=base,
            authorized_keys_file=keys_file,
        )
        host.root.mkdir(exist_ok=True)
        host._launch(fixed_port=port is not None)
        return host

    def add_authorized_key(self, line: str) -> None:
        """Authorize one more public key (sshd reads the file at every login)."""
        _append_lines(self.authorized_keys_file, [line])

    def regenerate_host_key(self) -> None:
        """Replace the host key with a new one and restart sshd on the same port."""
        self.stop()
        key_path = self.base / "ssh_host_ed25519_key"
        key_path.unlink()
        key_path.with_suffix(".pub").unlink()
        self.host_key_line = ensure_host_key(key_path)
        self._launch(fixed_port=True)

    def stop(self) -> None:
        """Kill sshd and every process its sessions started (idempotent)."""
        if self._process is None:
            return
        doomed = _descendants(self._process.pid) | _session_processes(self.host, self.port)
        _signal_all([self._process.pid], signal.SIGKILL)
        self._process.wait()
        self._process = None
        # Sessions are their own process groups (sshd and our run() call setsid), so
        # killing sshd alone would leave them running.
        _signal_all(doomed, signal.SIGKILL)
        _signal_all(_session_processes(self.host, self.port), signal.SIGKILL)

    def drop_connections(self) -> int:
        """Kill the sshd processes serving the open connections (the listener stays up).

        What a network cut looks like to a client: its connection dies, while the commands
        those sessions started keep running on the host as orphans. Returns how many died.
        """
        if self._process is None:
            return 0
        serving = [pid for pid in _descendants(self._process.pid) if _command_name(pid) == "sshd"]
        _signal_all(serving, signal.SIGKILL)
        return len(serving)

    @property
    def log_path(self) -> Path:
        """sshd's log (LogLevel VERBOSE: logins, offered keys, sessions)."""
        return self.base / "sshd.log"

    @property
    def pid(self) -> int | None:
        """The sshd listener's pid while it runs."""
        return self._process.pid if self._process else None

    def _launch(self, *, fixed_port: bool) -> None:
        """Start sshd; on a lost race for a free port, try another one."""
        for _attempt in range(5):
            if not fixed_port:
                self.port = _free_port(self.host)
            self._write_config()
            self._process = self._spawn()
            if _wait_for_port(self.host, self.port, self._process):
                return
            self._process.kill()
            self._process.wait()
            self._process = None
            if fixed_port:
                break
        log = self.log_path.read_text(errors="replace")
        raise RuntimeError(f"sshd did not start on {self.host}:{self.port}: {log[-2000:]}")

    def _write_config(self) -> None:
        for path in (self.base, self.authorized_keys_file):
            # sshd_config splits on whitespace and expands % tokens in some paths.
            if any(char.isspace() or char in '%"#' for char in str(path)):
                raise ValueError(f"sshd cannot use a path with spaces, %, # or quotes: {path}")
        config = _CONFIG.format(
            port=self.port,
            host=self.host,
            host_key=self.base / "ssh_host_ed25519_key",
            pid_file=self.base / "sshd.pid",
            authorized_keys=self.authorized_keys_file,
            user=self.user,
        )
        (self.base / "sshd_config").write_text(config)

    def _spawn(self) -> subprocess.Popen[bytes]:
        if os.getuid() == 0:
            # sshd refuses to start as root without its privilege separation directory.
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        with open(self.log_path, "ab") as log:
            return subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.base / "sshd_config")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )


def ensure_host_key(path: Path) -> str:
    """Create an ed25519 host key at `path` unless one exists; return its public line."""
    if not path.exists():
        subprocess.run(
            [
                SSH_KEYGEN,
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "deploynix-testbed",
                "-f",
                str(path),
            ],
            check=True,
        )
    return path.with_suffix(".pub").read_text().strip()


# deploynix/demo.py imported the private name before it became public.
_ensure_host_key = ensure_host_key


def _append_lines(path: Path, lines: Sequence[str]) -> None:
    with open(path, "a") as handle:
        handle.writelines(f"{line.strip()}\n" for line in lines)


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes]) -> bool:
    """Wait until `port` accepts TCP connections; False if sshd exits or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return True
        time.sleep(0.02)
    return False


def _processes() -> Iterator[tuple[int, int]]:
    """Yield (pid, parent pid) for every visible process."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                # The command name may contain spaces and parentheses: split after it.
                yield int(entry.name), int(stat.rsplit(")", 1)[1].split()[1])


def _descendants(root_pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in _processes():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [root_pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _session_processes(host: str, port: int) -> set[int]:
    """Processes whose SSH_CONNECTION names this sshd, even if re-parented to init."""
    suffix = f" {host} {port}".encode()
    found = set()
    for pid, _ppid in _processes():
        with contextlib.suppress(OSError):
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            if any(v.startswith(b"SSH_CONNECTION=") and v.endswith(suffix) for v in environ):
                found.add(pid)
    return found


def _signal_all(pids: set[int] | list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def serve(directory: Path, authorized_keys: Path, port: int | None) -> int:
    """Run one sshd in the foreground until SIGINT/SIGTERM; write its port to DIR/port."""
    authorized_keys.touch(exist_ok=True)
    host = SshdHost.start(directory, port=port, authorized_keys_file=authorized_keys)
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    (host.base / "port").write_text(f"{host.port}\n")
    print(host.port, flush=True)
    try:
        while not stop_requested and host._process and host._process.poll() is None:
            time.sleep(0.2)
    finally:
        host.stop()
    return 0 if stop_requested else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (`python -m testbed.sshd serve ...`)."""
    parser = argparse.ArgumentParser(prog="python -m testbed.sshd")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run one sshd in the foreground")
    serve_parser.add_argument("--dir", required=True, type=Path)
    serve_parser.add_argument("--port", type=int, default=None)
    serve_parser.add_argument("--authorized-keys", required=True, type=Path)
    args = parser.parse_args(argv)
    return serve(args.dir, args.authorized_keys.resolve(), args.port)


if __name__ == "__main__":
    sys.exit(main())
