"""Several real hosts on one machine: a network namespace + a private /srv each, behind a bridge.

Each `NetnsHost` is its own sshd (port 22 on its own address), nginx (port 80) and php-fpm
(127.0.0.1:9000 of its own loopback), in its own network namespace, with a mount namespace where
a per-host directory is bind-mounted on /srv: every host has the SAME deploy path (/srv/app),
like a real fleet, without sharing files. The hosts sit on a bridge in the root namespace on a
private /24 that nothing else routes (checked before any traffic is sent: if the bridge were
down, those addresses would go to the default gateway). The bench's `LoadBalancer`
(bench/hosts.py) is an nginx in the root namespace on 127.0.0.1 with the hosts as its upstream.

Shared by the bench and the tests (tests/loadbalancers/ puts real hosts behind a balancer).
Needs root (`ip netns`, `mount`). Names carry our pid, so parallel runs do not collide.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from testbed.web import NGINX_BINARY, PHP_INI, SiteRoot, find_php_fpm, fpm_conf, nginx_conf

SSHD_CONFIG = """\
Port 22
ListenAddress {address}
HostKey {base}/ssh_host_ed25519_key
PidFile {base}/sshd.pid
AuthorizedKeysFile {base}/authorized_keys
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers root
UseDNS no
PrintMotd no
MaxSessions 200
MaxStartups 500
Subsystem sftp internal-sftp
# The developer's ~/.bashrc (pyenv init) must not run on every remote command.
SetEnv SHLVL=1
"""
START_TIMEOUT = 15.0
_bridge_numbers = itertools.count(1)


def _ip(*args: str) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True).stdout


def free_subnet() -> str:
    """A 10.213.N prefix that no route on this machine mentions yet."""
    routes = _ip("-4", "route", "show", "table", "all")
    # Start the search at a pid-dependent place: two runs starting together rarely collide.
    start = os.getpid() % 230
    for offset in range(230):
        prefix = f"10.213.{20 + (start + offset) % 230}"
        if f"{prefix}." not in routes:
            return prefix
    raise RuntimeError("no free 10.213.N.0/24 subnet")


@dataclass
class Network:
    """A bridge in the root namespace with a private /24; hosts get .11, .12, …"""

    bridge: str
    prefix: str

    @classmethod
    def create(cls) -> Network:
        # Several networks may live in one process (a session's bare hosts and a test's own).
        bridge = f"dnxb{os.getpid() % 100000}n{next(_bridge_numbers)}"
        network = cls(bridge=bridge, prefix=free_subnet())
        _ip("link", "add", network.bridge, "type", "bridge")
        _ip("addr", "add", f"{network.prefix}.1/24", "dev", network.bridge)
        _ip("link", "set", network.bridge, "up")
        return network

    def address(self, index: int) -> str:
        return f"{self.prefix}.{10 + index}"

    def check_route(self, address: str) -> None:
        """Refuse to send anything unless `address` is reached through our own bridge."""
        route = _ip("-4", "route", "get", address).split()
        if route[route.index("dev") + 1] != self.bridge:
            raise RuntimeError(f"{address} does not route through {self.bridge}: {route}")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", self.bridge)


@dataclass
class NetnsHost:
    """One namespaced host: sshd, and (if `web`) nginx + php-fpm serving /srv/<site>/current."""

    name: str
    address: str
    base: Path
    host_key_line: str = ""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    user = "root"
    port = 22

    @property
    def host(self) -> str:
        """The address to ssh to (the name `SshdHost` uses too)."""
        return self.address

    # The web stack's files live in the host's private /srv, so every host has the same
    # paths: one DeployContext (one reload command) serves all servers of a rolling deploy.
    WEB = Path("/srv/.web")

    @property
    def fpm_pid_file(self) -> Path:
        """The php-fpm pid file as seen from outside the host."""
        return self.base / "srv" / ".web" / "fpm.pid"

    @property
    def reload_command(self) -> tuple[str, ...]:
        """Graceful php-fpm reload, as run on the host (re-reads the pid file every time)."""
        return ("sh", "-c", 'kill -USR2 "$(cat "$1")"', "sh", str(self.WEB / "fpm.pid"))

    @classmethod
    def start(
        cls,
        network: Network,
        index: int,
        base: Path,
        authorized_keys: list[str],
        *,
        site: str = "app",
        web: bool = True,
        fpm_children: int = 3,
    ) -> NetnsHost:
        """Create the namespaces, then start sshd (and the web stack); wait until they answer."""
        host = cls(
            name=f"dnx{os.getpid() % 100000}h{index}", address=network.address(index), base=base
        )
        base.mkdir(parents=True, exist_ok=True)
        (base / "srv").mkdir(exist_ok=True)
        try:
            host._create_netns(network)
            network.check_route(host.address)
            host._hold_mount_namespace()
            host._start_sshd(authorized_keys)
            if web:
                host._start_web(site, fpm_children)
            host._wait_for(22)
            if web:
                host._wait_for(80)
        except BaseException:
            host.stop()  # never leave a half-made namespace behind
            raise
        return host

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
        """A sleeping process owns the host's mount namespace (its own /srv); others join it."""
        holder = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.name,
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                'mount --bind "$1" /srv && echo ready && exec sleep infinity',
                "sh",
                str(self.base / "srv"),
            ],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.processes.append(holder)
        if holder.stdout is None or holder.stdout.readline().strip() != b"ready":
            raise RuntimeError(f"{self.name}: could not mount a private /srv")
        self._holder_pid = holder.pid

    def spawn(self, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
        """Start `argv` inside this host (its network and mount namespaces)."""
        enter = [
            "nsenter",
            f"--net=/run/netns/{self.name}",
            f"--mount=/proc/{self._holder_pid}/ns/mnt",
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
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.spawn(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(self.base / "sshd_config")],
            self.base / "sshd.log",
        )

    def _start_web(self, site: str, fpm_children: int) -> None:
        outside, web = self.base / "srv" / ".web", self.WEB
        for directory in (outside, outside / "logs", outside / "temp"):
            directory.mkdir(parents=True, exist_ok=True)
        conf = nginx_conf(
            web,
            [SiteRoot(Path("/srv") / site)],
            http_port=80,
            fpm_address="127.0.0.1:9000",
            misconfigured=False,
        )
        # The testbed's nginx listens on loopback; a namespaced host listens on its own address.
        assert "listen 127.0.0.1:80 " in conf
        (outside / "nginx.conf").write_text(
            conf.replace("listen 127.0.0.1:80 ", f"listen {self.address}:80 ")
        )
        (outside / "php-fpm.conf").write_text(
            fpm_conf(web, fpm_port=9000, misconfigured=False, children=fpm_children)
        )
        (outside / "php.ini").write_text(PHP_INI)
        self.spawn(
            [
                find_php_fpm(),
                "--allow-to-run-as-root",
                "--nodaemonize",
                "--fpm-config",
                str(web / "php-fpm.conf"),
                "-c",
                str(web / "php.ini"),
            ],
            outside / "fpm.out",
        )
        self.spawn(
            [NGINX_BINARY, "-p", str(web), "-c", str(web / "nginx.conf"), "-g", "daemon off;"],
            outside / "nginx.out",
        )

    def _wait_for(self, port: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            dead = [p.args for p in self.processes if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{self.name}: exited early: {dead}; logs in {self.base}")
            with contextlib.suppress(OSError), socket.create_connection((self.address, port), 0.5):
                if port != 80 or self.fpm_pid_file.exists():
                    return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: port {port} not ready; logs in {self.base}")

    def stop_nginx(self) -> None:
        """Kill this host's nginx (master and workers): its port 80 then refuses connections."""
        for process in self.processes:
            if NGINX_BINARY in process.args:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def stop(self) -> None:
        """Kill every process of this host (sessions are their own groups) and its namespace."""
        for process in reversed(self.processes):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in _pids_in_netns(self.name):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("netns", "del", self.name)


def _pids_in_netns(name: str) -> list[int]:
    with contextlib.suppress(subprocess.CalledProcessError):
        return [int(pid) for pid in _ip("netns", "pids", name).split()]
    return []
