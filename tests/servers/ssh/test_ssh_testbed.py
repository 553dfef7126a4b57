"""The sshd test hosts themselves: clean stop, and the `serve` command for the demo."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from servers.ssh import connect
from tests.fixtures.sshd import eventually
from tests.fixtures.sshd import process_running as running

pytestmark = pytest.mark.ssh

ROOT = Path(__file__).resolve().parents[3]


async def test_it_kills_detached_session_processes_on_stop(make_sshd_host, ssh_target):
    host = make_sshd_host()
    async with await connect(
        dataclasses.replace(ssh_target, port=host.port, host_key=None)
    ) as conn:
        script = "setsid nohup sleep 986.5 >/dev/null 2>&1 < /dev/null &"
        await conn.run(["sh", "-c", script])
    assert await eventually(lambda: running("^sleep 986.5$"))
    host.stop()
    assert await eventually(lambda: not running("^sleep 986.5$"), timeout=2)


def start_serve(directory: Path, keys_file: Path) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, "-m", "testbed.sshd", "serve", "--dir", str(directory)]
    process = subprocess.Popen(
        [*command, "--authorized-keys", str(keys_file)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    return process, int(process.stdout.readline())


def stop_serve(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=10)


async def test_it_serves_in_the_foreground_and_exits_cleanly_on_sigterm(
    tmp_path, ssh_client_key, ssh_target
):
    keys_file = tmp_path / "authorized_keys"
    keys_file.write_text(ssh_client_key[1] + "\n")
    process, port = start_serve(tmp_path / "host", keys_file)
    try:
        assert (tmp_path / "host" / "port").read_text().strip() == str(port)
        async with await connect(dataclasses.replace(ssh_target, port=port, host_key=None)) as conn:
            assert (await conn.run(["true"])).exit_status == 0
    finally:
        assert stop_serve(process) == 0


def test_it_keeps_the_host_key_across_serve_runs(tmp_path, ssh_client_key):
    keys_file = tmp_path / "authorized_keys"
    keys_file.touch()
    first, _port = start_serve(tmp_path / "host", keys_file)
    key = (tmp_path / "host" / "ssh_host_ed25519_key.pub").read_text()
    stop_serve(first)
    second, _port = start_serve(tmp_path / "host", keys_file)
    stop_serve(second)
    assert (tmp_path / "host" / "ssh_host_ed25519_key.pub").read_text() == key
