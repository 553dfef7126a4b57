#!/usr/bin/env python3
"""Make sure the services Deploynix needs are reachable; start private ones where none is.

Standard library only: it runs before the virtualenv exists. Each subcommand prints one line,
the URL to use, on stdout (diagnostics go to stderr):

    devenv.py redis     -> REDIS_URL       (uses $REDIS_URL if it answers PING)
    devenv.py postgres  -> DATABASE_URL    (uses $DATABASE_URL or 127.0.0.1:5432 if it answers)
    devenv.py stop DIR  -> stops the private services started under DIR
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("DEVENV_STATE", ROOT / "var" / "services"))


def log(message: str) -> None:
    print(f"devenv: {message}", file=sys.stderr)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_answers(url: str) -> bool:
    parsed = urlparse(url)
    try:
        address = (parsed.hostname or "127.0.0.1", parsed.port or 6379)
        with socket.create_connection(address, 1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def postgres_answers(host: str, port: int) -> bool:
    # An SSLRequest packet: any PostgreSQL server answers with a single byte 'S' or 'N'.
    try:
        with socket.create_connection((host, port), 1) as s:
            s.sendall((8).to_bytes(4, "big") + (80877103).to_bytes(4, "big"))
            return s.recv(1) in (b"S", b"N")
    except OSError:
        return False


def apt_install(*packages: str) -> None:
    if os.geteuid() != 0:
        names = " ".join(packages)
        sys.exit(f"devenv: please install {names} (apt-get install {names})")
    log(f"installing {' '.join(packages)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env)


def wait_for(check, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    sys.exit(f"devenv: {what} did not come up; see the logs under {STATE}")


def ensure_redis() -> str:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    if redis_answers(url):
        return url
    port_file = STATE / "redis.port"
    if port_file.exists():
        own = f"redis://127.0.0.1:{port_file.read_text().strip()}/0"
        if redis_answers(own):
            return own
    if not shutil.which("redis-server"):
        apt_install("redis-server")
    STATE.mkdir(parents=True, exist_ok=True)
    port = free_port()
    subprocess.run(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
         "--pidfile", str(STATE / "redis.pid"), "--dir", str(STATE), "--save", "",
         "--appendonly", "no", "--logfile", str(STATE / "redis.log")],
        check=True,
    )
    own = f"redis://127.0.0.1:{port}/0"
    wait_for(lambda: redis_answers(own), "redis-server")
    port_file.write_text(str(port))
    log(f"started a private redis-server on port {port}")
    return own


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        apt_install("postgresql")
        found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1]


def _as_postgres(argv: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; run the throwaway cluster as the postgres user.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def ensure_postgres() -> str:
    url = os.environ.get("DATABASE_URL")
    if url and url.startswith("postgres"):
        parsed = urlparse(url)
        if postgres_answers(parsed.hostname or "127.0.0.1", parsed.port or 5432):
            return url
    if postgres_answers("127.0.0.1", 5432):
        return "postgres://postgres@127.0.0.1:5432/test"
    data = STATE / "pgdata"
    port_file = STATE / "postgres.port"
    if port_file.exists() and postgres_answers("127.0.0.1", int(port_file.read_text())):
        return f"postgres://postgres@127.0.0.1:{port_file.read_text().strip()}/postgres"
    STATE.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(STATE, "postgres")
    if not data.exists():
        subprocess.run(_as_postgres([_pg_bin("initdb"), "-D", str(data), "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8"]), check=True,
                       stdout=subprocess.DEVNULL)
    port = free_port()
    subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(data), "-l", str(STATE / "pg.log"),
                                 "-o", f"-p {port} -k {STATE} -c listen_addresses=127.0.0.1", "-w",
                                 "start"]), check=True, stdout=subprocess.DEVNULL)
    port_file.write_text(str(port))
    log(f"started a throwaway PostgreSQL cluster on port {port}")
    return f"postgres://postgres@127.0.0.1:{port}/postgres"


def main(argv: list[str]) -> None:
    command = argv[1] if len(argv) > 1 else ""
    if command == "redis":
        print(ensure_redis())
    elif command == "postgres":
        print(ensure_postgres())
    elif command == "free-port":
        print(free_port())
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
