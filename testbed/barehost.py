"""A bare Debian host for provisioning tests: sshd, nginx and php-fpm with Debian's own configs.

Like `testbed.netns.NetnsHost` it is a network namespace on a private bridge, but its mount
namespace has a private copy of this machine's `/etc` and its own `/run`, `/home`, `/var/www`,
`/var/log`, `/var/lib/nginx` and `/srv`. So `useradd`, `/etc/nginx/sites-enabled/` and
`/etc/php/<v>/fpm/pool.d/` can be changed for real, exactly as on a fresh server, without
touching this machine or the other hosts. nginx and php-fpm start from `/etc/nginx/nginx.conf`
and `/etc/php/<v>/fpm/php-fpm.conf` untouched (pid files in the private `/run`); there is no
systemd, so they are reloaded by signal (`nginx -s reload`, `kill -USR2` via the pid file).

Needs root (`ip netns`, `mount`).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from testbed.netns import SSHD_CONFIG, Network, _ip, _pids_in_netns
from testbed.web import NGINX_BINARY, find_php_fpm

START_TIMEOUT = 15.0
# The directories each host gets for itself (bind-mounted over the machine's own).
PRIVATE_DIRS = ("home", "var/www", "var/log", "var/lib/nginx", "srv")
# Inside the host: bind the copies, give it its own /run (pid files, sockets), then hold on.
HOLDER = """set -e
base=$1; shift
mount --bind "$base/etc" /etc
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/sshd /run/php
for dir in "$@"; do mount --bind "$base/$dir" "/$dir"; done
echo ready
exec sleep infinity
"""


@dataclass
class BareHost:
    """One bare host: its address, its files as seen from outside (`base/...`), its processes."""

    name: str
    address: str
    base: Path
    host_key_line: str = ""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _holder_pid: int = 0

    user = "root"
    port = 22

    @property
    def host(self) -> str:
        return self.address

    @classmethod
    def start(
        cls, network: Network, index: int, base: Path, authorized_keys: list[str]
    ) -> BareHost:
        """Create the namespaces, start sshd, php-fpm and nginx; wait until they answer."""
        host = cls(
            name=f"dnx{os.getpid() % 100000}b{index}", address=network.address(index), base=base
        )
        try:
            host._copy_root()
            host._create_netns(network)
            network.check_route(host.address)
            host._hold_mount_namespace()
            host._start_sshd(authorized_keys)
            fpm = Path(find_php_fpm())
            version = re.sub(r"^php-fpm", "", fpm.name)
            host.spawn(
                [str(fpm), "--nodaemonize", "--fpm-config", f"/etc/php/{version}/fpm/php-fpm.conf"],
                base / "fpm.out",
            )
            host.spawn([NGINX_BINARY, "-g", "daemon off;"], base / "nginx.out")
            host._wait_for(22)
            host._wait_for(80)
        except BaseException:
            host.stop()
            raise
        return host

    def _copy_root(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-a", "/etc", str(self.base / "etc")], check=True)
        for directory in PRIVATE_DIRS:
            (self.base / directory).mkdir(parents=True, exist_ok=True)
            Path("/", directory).mkdir(parents=True, exist_ok=True)
        (self.base / "var/log/nginx").mkdir(exist_ok=True)
        (self.base / "var/www/html").mkdir(exist_ok=True)
        (self.base / "var/www/html/index.html").write_text("bare host\n")

    def _create_netns(self, network: Network) -> None:
        veth = f"{self.name}v"
        _ip("netns", "add", self.name)
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", self.name)
        _ip("link", "set", veth, "master", network.bridge, "up")
        inside = ("netns", "exec", self.name, "ip")
        _ip(*inside, "addr", "add", f"{self.address}/24", "dev", "eth0")
        _ip(*inside, "link", "set", "eth0", "up")
        _ip(*inside, "link", "set", "lo", "up")

    def _hold_mount_namespace(self) -> None:
        holder = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.name,
                "unshare",
                "--mount",
                "--pid",
                "--fork",
                "--mount-proc",
                "--propagation",
                "private",
                "sh",
                "-c",
                HOLDER,
                "sh",
                str(self.base),
                *PRIVATE_DIRS,
            ],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.processes.append(holder)
        if holder.stdout is None or holder.stdout.readline().strip() != b"ready":
            raise RuntimeError(f"{self.name}: could not set up its private directories")
        # The host's own init (pid 1 inside) is unshare's child: its namespaces are the host's.
        children = Path(f"/proc/{holder.pid}/task/{holder.pid}/children").read_text().split()
        self._holder_pid = int(children[0])

    def spawn(self, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
        """Start `argv` inside this host (its network and mount namespaces)."""
        enter = [
            "nsenter",
            f"--net=/run/netns/{self.name}",
            f"--mount=/proc/{self._holder_pid}/ns/mnt",
            f"--pid=/proc/{self._holder_pid}/ns/pid",
        ]
        with log.open("ab") as output:
            process = subprocess.Popen(
                [*enter, "--", *argv],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def run(self, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `argv` inside the host and wait (for a test's own look at the host)."""
        enter = [
            "nsenter",
            f"--net=/run/netns/{self.name}",
            f"--mount=/proc/{self._holder_pid}/ns/mnt",
            f"--pid=/proc/{self._holder_pid}/ns/pid",
        ]
        return subprocess.run([*enter, "--", *argv], capture_output=True, text=True, check=check)

    def _start_sshd(self, authorized_keys: list[str]) -> None:
        key = self.base / "ssh_host_ed25519_key"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", self.name, "-f", str(key)],
            check=True,
        )
        self.host_key_line = key.with_suffix(".pub").read_text().strip()
        (self.base / "authorized_keys").write_text(
            "".join(f"{k.strip()}\n" for k in authorized_keys)
        )
        (self.base / "sshd_config").write_text(
            SSHD_CONFIG.format(address=self.address, base=self.base)
            # Any user with a key may log in (tests add unprivileged ones: add_login_user); the
            # root key file is read first, then the user's own ~/.ssh/authorized_keys.
            .replace("AllowUsers root\n", "")
            .replace("authorized_keys\n", "authorized_keys .ssh/authorized_keys\n", 1)
        )
        self.spawn(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(self.base / "sshd_config")],
            self.base / "sshd.log",
        )

    def add_login_user(self, name: str, public_key: str, sudoers: str = "") -> None:
        """An unprivileged SSH login `name` with `public_key`, and `sudoers` (its rules, e.g.
        f"{name} ALL=(ALL:ALL) NOPASSWD: ALL") as /etc/sudoers.d/<name>, checked by `visudo -cf`
        before it is installed; no rules, no sudo. Its password is "*": no password works,
        yet the account is not locked (sshd without PAM refuses locked accounts)."""
        self.run(["useradd", "--create-home", "--shell", "/bin/bash", name])
        self.run(["usermod", "--password", "*", name])
        home = self.base / "home" / name
        (home / ".ssh").mkdir(mode=0o700)
        (home / ".ssh/authorized_keys").write_text(public_key.strip() + "\n")
        self.run(["chown", "-R", f"{name}:{name}", f"/home/{name}/.ssh"])
        if sudoers:
            drop_in = self.base / "etc/sudoers.d" / name
            staged = drop_in.with_name(f".{name}.new")
            staged.write_text(sudoers.strip() + "\n")
            staged.chmod(0o440)
            self.run(["visudo", "-cf", f"/etc/sudoers.d/.{name}.new"])
            staged.rename(drop_in)

    def start_supervisor(self) -> str:
        """Debian's supervisord with Debian's own config (root's socket, mode 0700, and
        conf.d/), inside this host; its config path once supervisorctl reaches it."""
        conf = "/etc/supervisor/supervisord.conf"
        (self.base / "var/log/supervisor").mkdir(parents=True, exist_ok=True)
        self.spawn(["supervisord", "-n", "-c", conf], self.base / "supervisord.out")
        deadline = time.monotonic() + START_TIMEOUT
        while self.run(["supervisorctl", "-c", conf, "pid"], check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: supervisord did not start; see {self.base}")
            time.sleep(0.1)
        return conf

    def _wait_for(self, port: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            dead = [p.args for p in self.processes if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{self.name}: exited early: {dead}; logs in {self.base}")
            with contextlib.suppress(OSError), socket.create_connection((self.address, port), 0.5):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: port {port} not ready; logs in {self.base}")

    def get(self, path: str = "/", host: str | None = None) -> tuple[int, bytes]:
        """GET `path` from this host's nginx with an optional Host header: (status, body)."""
        request = urllib.request.Request(f"http://{self.address}{path}")  # noqa: S310
        if host is not None:
            request.add_header("Host", host)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def stop(self) -> None:
        """Kill every process of this host and remove its namespace (idempotent)."""
        for process in reversed(self.processes):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in _pids_in_netns(self.name):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("netns", "del", self.name)
