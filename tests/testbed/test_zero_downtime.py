"""Under load, switching `current` and reloading PHP-FPM loses no request (recommended config)."""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

import pytest

from testbed.web import SiteRoot, WebStack
from tests.fixtures.web import make_release, switch_current

pytestmark = [pytest.mark.web, pytest.mark.slow]
FULL_BODY = re.compile(rb"release=2026010100000\d version=1\.0\.0 env=Testapp\n")


def _hammer(stack: WebStack, stop: threading.Event, results: list[object]) -> None:
    while not stop.is_set():
        try:
            results.append(stack.get("/slow.php"))
        except OSError as error:  # a reset or refused connection is a dropped request
            results.append(error)


def _deploy(stack: WebStack, deploy_path: Path, name: str) -> None:
    make_release(deploy_path, name)
    switch_current(deploy_path, name)
    subprocess.run(stack.reload_command, check=True)


def test_it_drops_no_request_across_switches_and_reloads(tmp_path, web_stack_factory):
    deploy_path = tmp_path / "site"
    make_release(deploy_path, "20260101000000")
    switch_current(deploy_path, "20260101000000")
    stack = web_stack_factory([SiteRoot(deploy_path)])
    results: list[object] = []
    stop = threading.Event()
    clients = [threading.Thread(target=_hammer, args=(stack, stop, results)) for _ in range(6)]
    for client in clients:
        client.start()
    for number in range(1, 6):
        stop.wait(0.3)
        _deploy(stack, deploy_path, f"2026010100000{number}")
    stop.wait(0.3)
    stop.set()
    for client in clients:
        client.join()

    failures = [
        r
        for r in results
        if not (isinstance(r, tuple) and r[0] == 200 and FULL_BODY.fullmatch(r[1]))
    ]
    assert len(results) > 30 and failures == []
    assert stack.get("/")[1].startswith(b"release=20260101000005 ")
