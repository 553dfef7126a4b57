"""Real nginx + php-fpm test hosts serving Deploynix release layouts.

A `WebStack` is one nginx master and one php-fpm master, both started in the
foreground as our own child processes, with private config, pid and log files
under `base`. The recommended configuration (the one docs/server-setup.md
documents) serves `<deploy_path>/current/<web_dir>` through `$realpath_root`,
so a `current` switch is visible to the very next request; `misconfigured=True`
reproduces the two classic mistakes for benchmarks and the stack check.

Command line (used by `make run`):
    python -m testbed.web serve --dir DIR --deploy-path P [--port N]
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

NGINX_BINARY = "/usr/sbin/nginx"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class SiteRoot:
    """One site served by a WebStack: nginx serves `<deploy_path>/current/<web_dir>`."""

    deploy_path: Path
    web_dir: str = "public"
    server_name: str = "_"
    # A directory holding not-deployed.html, shown while `current` does not exist yet (the
    # demo of `make run`: "not deployed yet, click Deploy"); None answers 404 as a server would.
    placeholder: Path | None = None


PLACEHOLDER_URI = "/__deploynix-not-deployed.html"


def _placeholder_block(site: SiteRoot) -> str:
    if site.placeholder is None:
        return ""
    # `if` with a `rewrite ... last` at server level is the safe use of nginx's `if`.
    return f"""    if (!-e {site.deploy_path}/current) {{
        rewrite ^ {PLACEHOLDER_URI} last;
    }}

    location = {PLACEHOLDER_URI} {{
        internal;
        root {site.placeholder};
        try_files /not-deployed.html =404;
        add_header Cache-Control "no-store";
    }}

"""


class StackStartError(RuntimeError):
    """nginx or php-fpm did not come up; the message carries their logs."""


def find_php_fpm() -> str:
    """Return this machine's php-fpm binary (e.g. /usr/sbin/php-fpm8.2), versioned first."""
    candidates = glob.glob("/usr/sbin/php-fpm*") + glob.glob("/usr/bin/php-fpm*")
    binaries = [c for c in candidates if os.access(c, os.X_OK)]
    if not binaries:
        raise FileNotFoundError("no php-fpm binary found in /usr/sbin or /usr/bin")
    # "php-fpm8.2" sorts after "php-fpm", so the versioned binary wins when both exist.
    return sorted(binaries, key=lambda path: (Path(path).name, path))[-1]


def free_port() -> int:
    """Ask the kernel for a free loopback TCP port (there is a small race; start() retries)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nginx_server_block(
    site: SiteRoot, *, fpm_address: str, listen: str, default: bool, misconfigured: bool = False
) -> str:
    """The nginx `server { }` block for one site, exactly as docs/server-setup.md shows it."""
    root_var = "$document_root" if misconfigured else "$realpath_root"
    default_flag = " default_server" if default else ""
    return f"""server {{
    listen {listen}{default_flag};
    server_name {site.server_name};
    root {site.deploy_path}/current/{site.web_dir};
    index index.php index.html;
    charset utf-8;

{_placeholder_block(site)}    location / {{
        try_files $uri $uri/ /index.php?$query_string;
    }}

    location ~ \\.php$ {{
        try_files $uri =404;
        fastcgi_pass {fpm_address};
        fastcgi_index index.php;
        include /etc/nginx/fastcgi_params;
        # Resolve the `current` symlink per request, so PHP (its realpath cache
        # and OPcache) sees releases/<ts>/... and never a stale `current/...`.
        fastcgi_param SCRIPT_FILENAME {root_var}$fastcgi_script_name;
        fastcgi_param DOCUMENT_ROOT {root_var};
    }}

    location ~ /\\.(?!well-known).* {{
        deny all;
    }}
}}
"""


def nginx_conf(
    base: Path, sites: Sequence[SiteRoot], *, http_port: int, fpm_address: str, misconfigured: bool
) -> str:
    """A whole nginx.conf with every path private to `base`."""
    # As root, workers would run as `nobody` and could not read the test's
    # private tmp dirs (403/404); run them as the user who owns the files.
    user_line = "user root root;\n" if os.geteuid() == 0 else ""
    servers = "\n".join(
        nginx_server_block(
            site,
            fpm_address=fpm_address,
            listen=f"127.0.0.1:{http_port}",
            default=index == 0,
            misconfigured=misconfigured,
        )
        for index, site in enumerate(sites)
    )
    return f"""{user_line}worker_processes 2;
pid {base}/nginx.pid;
error_log {base}/logs/nginx-error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    keepalive_timeout 65;
    client_body_temp_path {base}/temp/client_body;
    fastcgi_temp_path {base}/temp/fastcgi;
    proxy_temp_path {base}/temp/proxy;
    uwsgi_temp_path {base}/temp/uwsgi;
    scgi_temp_path {base}/temp/scgi;

{servers}}}
"""


def fpm_conf(base: Path, *, fpm_port: int, misconfigured: bool, children: int = 8) -> str:
    """php-fpm.conf: global settings plus one static pool on a loopback TCP port."""
    # 0 (the default) lets a graceful reload kill busy workers: 502s and truncated 200s.
    timeout = "0" if misconfigured else "10s"
    return f"""[global]
pid = {base}/fpm.pid
error_log = {base}/logs/fpm.log
daemonize = no
; Give in-flight requests up to 10 s to finish when SIGUSR2 reloads the master.
process_control_timeout = {timeout}

[deploynix]
listen = 127.0.0.1:{fpm_port}
pm = static
pm.max_children = {children}
catch_workers_output = yes
clear_env = no
"""


OPCACHE_INI = """; OPcache on, and never stat files: every deploy is a new releases/<ts>/ path
; (thanks to $realpath_root) and the deploy reloads php-fpm, which empties the cache.
opcache.enable = 1
opcache.validate_timestamps = 0
opcache.memory_consumption = 128
opcache.max_accelerated_files = 10000
"""

# Our own php.ini replaces the distro's; extensions still load from its conf.d scan dir.
PHP_INI = (
    OPCACHE_INI
    + """expose_php = Off
display_errors = Off
log_errors = On
"""
)


class WebStack:
    """One nginx + one php-fpm master with private config/pid/log dirs under `base`."""

    def __init__(
        self,
        base: Path,
        http_port: int,
        fpm_port: int,
        nginx: subprocess.Popen[bytes],
        fpm: subprocess.Popen[bytes],
    ) -> None:
        self.base = base
        self.http_port = http_port
        self.fpm_port = fpm_port
        self.url = f"http://127.0.0.1:{http_port}/"
        self.fpm_pid_file = base / "fpm.pid"
        self.nginx_conf_file = base / "nginx.conf"
        self.fpm_conf_file = base / "php-fpm.conf"
        # Re-reads the pid file on every call; the path is passed as $1, so no quoting is needed.
        self.reload_command = ["sh", "-c", 'kill -USR2 "$(cat "$1")"', "sh", str(self.fpm_pid_file)]
        self._nginx = nginx
        self._fpm = fpm

    @classmethod
    def start(
        cls,
        base: Path,
        *,
        sites: Sequence[SiteRoot],
        misconfigured: bool = False,
        http_port: int | None = None,
    ) -> WebStack:
        """Write configs under `base`, start php-fpm and nginx, return once both answer."""
        if not sites:
            raise ValueError("a WebStack needs at least one SiteRoot")
        for attempt in (1, 2, 3):
            try:
                return cls._start_once(Path(base), sites, misconfigured, http_port)
            except StackStartError:
                # A port from free_port() can be taken by someone else before we bind it.
                if http_port is not None or attempt == 3:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _start_once(
        cls, base: Path, sites: Sequence[SiteRoot], misconfigured: bool, http_port: int | None
    ) -> WebStack:
        http_port = http_port or free_port()
        fpm_port = free_port()
        _write_configs(
            base, sites, http_port=http_port, fpm_port=fpm_port, misconfigured=misconfigured
        )
        fpm_argv = [find_php_fpm(), "--allow-to-run-as-root", "--nodaemonize"]
        fpm = _spawn(
            [*fpm_argv, "--fpm-config", str(base / "php-fpm.conf"), "-c", str(base / "php.ini")],
            base / "logs" / "fpm.out",
        )
        nginx_argv = [NGINX_BINARY, "-p", str(base), "-c", str(base / "nginx.conf")]
        try:
            nginx = _spawn([*nginx_argv, "-g", "daemon off;"], base / "logs" / "nginx.out")
        except BaseException:
            _terminate(fpm)
            raise
        stack = cls(base, http_port, fpm_port, nginx, fpm)
        try:
            stack._wait_until_ready()
        except BaseException:  # also Ctrl-C while waiting: never leave daemons behind
            stack.stop()
            raise
        return stack

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for name, process in (("nginx", self._nginx), ("php-fpm", self._fpm)):
                if process.poll() is not None:
                    raise StackStartError(f"{name} exited with {process.returncode}\n{self.logs()}")
            if _port_open(self.fpm_port) and self._nginx_answers():
                return
            time.sleep(0.05)
        raise StackStartError(f"nginx/php-fpm not ready after {START_TIMEOUT}s\n{self.logs()}")

    def _nginx_answers(self) -> bool:
        with contextlib.suppress(OSError):
            return bool(self.get("/"))
        return False

    def get(self, path: str = "/", host: str | None = None) -> tuple[int, bytes]:
        """GET `path` from this nginx; return (status, body) even for 4xx/5xx."""
        url = self.url.rstrip("/") + path  # always http://127.0.0.1:<port>/...
        request = urllib.request.Request(url)  # noqa: S310
        if host is not None:
            request.add_header("Host", host)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def fpm_master_pid(self) -> int:
        """The php-fpm master's pid as its pid file says now."""
        return int(self.fpm_pid_file.read_text().strip())

    def completed_reloads(self) -> int:
        """How many graceful reloads php-fpm finished (back-to-back USR2s can merge into one)."""
        log = (self.base / "logs" / "fpm.log").read_text(errors="replace")
        return log.count("ready to handle connections") - 1

    def pids(self) -> list[int]:
        """Pids of the two masters we started (workers are their children)."""
        return [self._nginx.pid, self._fpm.pid]

    def logs(self) -> str:
        """Everything nginx and php-fpm logged so far (for error messages)."""
        logs = sorted((self.base / "logs").glob("*"))
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in logs)

    def running(self) -> bool:
        """True while both masters are alive."""
        return self._nginx.poll() is None and self._fpm.poll() is None

    def stop(self) -> None:
        """Stop both masters (and so their workers) and reap them; idempotent."""
        for process in (self._nginx, self._fpm):
            _terminate(process)


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM `process` if still running, wait for it, SIGKILL after STOP_TIMEOUT."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # fast shutdown for both nginx and php-fpm
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _write_configs(
    base: Path, sites: Sequence[SiteRoot], *, http_port: int, fpm_port: int, misconfigured: bool
) -> None:
    for directory in (base, base / "logs", base / "temp"):
        directory.mkdir(parents=True, exist_ok=True)
    fpm_address = f"127.0.0.1:{fpm_port}"
    (base / "nginx.conf").write_text(
        nginx_conf(
            base, sites, http_port=http_port, fpm_address=fpm_address, misconfigured=misconfigured
        )
    )
    (base / "php-fpm.conf").write_text(
        fpm_conf(base, fpm_port=fpm_port, misconfigured=misconfigured)
    )
    (base / "php.ini").write_text(PHP_INI)


def _spawn(argv: list[str], output: Path) -> subprocess.Popen[bytes]:
    with output.open("ab") as sink:
        # A new session keeps Ctrl-C in a terminal from hitting the daemons before we stop them.
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def serve(
    directory: Path, deploy_path: Path, port: int | None, placeholder: Path | None = None
) -> int:
    """Run a stack for one site in the foreground until SIGINT/SIGTERM; 1 if a daemon died."""

    def _raise_interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Installed before starting, so a SIGTERM during start-up still stops the daemons.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        site = SiteRoot(deploy_path, placeholder=placeholder)
        stack = WebStack.start(directory, sites=[site], http_port=port)
    except KeyboardInterrupt:
        return 0
    try:  # from here on, a SIGTERM at any point must still reach stack.stop()
        (directory / "port").write_text(f"{stack.http_port}\n")
        (directory / "fpm.pidfile").write_text(f"{stack.fpm_pid_file}\n")
        print(f"Serving {deploy_path}/current/public at {stack.url}", flush=True)
        while stack.running():
            time.sleep(0.5)
        print("nginx or php-fpm exited unexpectedly\n" + stack.logs(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m testbed.web`."""
    parser = argparse.ArgumentParser(prog="python -m testbed.web")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="serve <deploy-path>/current until Ctrl-C")
    serve_parser.add_argument("--dir", required=True, type=Path, help="config/pid/log directory")
    serve_parser.add_argument("--deploy-path", required=True, type=Path)
    serve_parser.add_argument("--port", type=int, default=None)
    serve_parser.add_argument("--placeholder", type=Path, default=None,
                              help="directory with not-deployed.html, shown until a deploy")
    args = parser.parse_args(argv)
    placeholder = args.placeholder.resolve() if args.placeholder else None
    return serve(args.dir.resolve(), args.deploy_path.resolve(), args.port, placeholder)


if __name__ == "__main__":
    sys.exit(main())
