#!/usr/bin/env python3
"""The last thing `make run` prints: the log-in block, once the panel answers on its port.

Standard library only. scripts/run.sh starts it in the background just before the processes, so
the block comes after pip's, the migrations' and the seed's output, and only when a browser
would get a page. README.md shows the block exactly as `login_block` writes it (a test checks).

    greet.py --port 8000 --panel-url URL --email E --password-file F [--demo-url U]
             [--parent PID] [--ready-command "celery ... inspect ping ..."]

`--ready-command` is run (until it exits 0) once the panel answers, so the block also waits for
the deploy worker to take work: it then follows the workers' start-up lines too.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 180.0  # a first start on a slow machine: migrations are done, daphne imports


def login_block(*, panel_url: str, email: str, password: str, demo_url: str = "") -> str:
    """The block, one line each: where to go, who to log in as, the demo site, how to stop."""
    lines = [
        "",
        "==> Deploynix is ready",
        f"    Open:      {panel_url}",
        f"    E-mail:    {email}",
        f"    Password:  {password}",
    ]
    if demo_url:
        note = '(says "not deployed yet" until you click Deploy)'
        lines.append(f"    Demo site: {demo_url}  {note}")
    lines.append("    Ctrl-C stops everything.")
    return "\n".join(lines) + "\n"


def panel_answers(port: int) -> bool:
    """True once the panel serves HTTP on 127.0.0.1:port (any status: it is up)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _command_succeeds(command: str) -> bool:
    if not command:
        return True
    try:
        done = subprocess.run(shlex.split(command), cwd=ROOT, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def wait_for_panel(
    port: int, parent: int | None, seconds: float = WAIT_SECONDS, ready_command: str = ""
) -> bool:
    """Poll until the panel answers (and `ready_command` succeeds); False when `parent` (make
    run) ended or time ran out."""
    deadline = time.monotonic() + seconds
    answered = False
    while time.monotonic() < deadline and _alive(parent):
        answered = answered or panel_answers(port)
        if answered and _command_succeeds(ready_command):
            return True
        time.sleep(0.3)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="greet.py")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--panel-url", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password-file", type=Path, required=True)
    parser.add_argument("--demo-url", default="")
    parser.add_argument("--parent", type=int, default=None)
    parser.add_argument("--ready-command", default="")
    args = parser.parse_args(argv)
    if not wait_for_panel(args.port, args.parent, ready_command=args.ready_command):
        print(f"greet: the panel did not answer on port {args.port}", file=sys.stderr)
        return 1
    password = args.password_file.read_text().strip()
    sys.stdout.write(login_block(panel_url=args.panel_url, email=args.email, password=password,
                                 demo_url=args.demo_url))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
