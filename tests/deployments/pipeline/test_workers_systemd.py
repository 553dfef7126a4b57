"""The workers' systemd path as far as it is real here: these machines run no systemd, so the
units are installed for real over SSH (atomically, checked by `systemd-analyze verify`, the
site's stale units removed) and nothing is started. Starting, restarting and the MainPID check
on a running systemd are NOT exercised here (docs/workers.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deployments.pipeline import workers
from deployments.pipeline.context import WorkerSpec
from servers.ssh import connect
from tests.deployments.pipeline.contexts import make_ctx
from tests.fixtures.sshd import target_for

pytestmark = [pytest.mark.ssh, pytest.mark.skipif(
    not shutil.which("systemd-analyze"), reason="systemd-analyze is not here")]

QUEUE = WorkerSpec("queue", "deploynix-site7-queue", "php artisan queue:work", processes=2)
OCTANE = WorkerSpec("web", "deploynix-site7-web", workers.octane_command("swoole"),
                    octane="swoole")


async def _apply(sshd_host, key, unit_dir: Path, *specs: WorkerSpec) -> tuple[int, str]:
    command = workers.systemd_apply(make_ctx(worker_group="deploynix-site7", workers=specs),
                                    "root", str(unit_dir))
    lines: list[str] = []
    async with await connect(target_for(sshd_host, key)) as conn:
        result = await conn.run(command.argv, on_line=lambda line: lines.append(line.text))
    return result.exit_status, "\n".join(lines)


async def test_it_installs_verified_units_and_starts_nothing_without_systemd(
    sshd_host, ssh_client_key, tmp_path
):
    status, out = await _apply(sshd_host, ssh_client_key[0], tmp_path, QUEUE, OCTANE)
    assert status == 0, out
    unit = tmp_path / "deploynix-site7-web@.service"
    assert "ExecReload=php artisan octane:reload --server=swoole\n" in unit.read_text()
    assert "systemd is not running here" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "deploynix-site7-queue@.service", "deploynix-site7-web@.service"]


async def test_the_same_units_change_nothing_and_a_gone_worker_loses_its_unit(
    sshd_host, ssh_client_key, tmp_path
):
    (tmp_path / "deploynix-site70-queue@.service").write_text("another site's\n")
    await _apply(sshd_host, ssh_client_key[0], tmp_path, QUEUE, OCTANE)
    status, out = await _apply(sshd_host, ssh_client_key[0], tmp_path, QUEUE)
    assert status == 0, out
    assert f"unchanged {tmp_path}/deploynix-site7-queue@.service" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "deploynix-site7-queue@.service", "deploynix-site70-queue@.service"]


async def test_a_unit_systemd_refuses_installs_nothing(sshd_host, ssh_client_key, tmp_path):
    await _apply(sshd_host, ssh_client_key[0], tmp_path, QUEUE)
    before = (tmp_path / "deploynix-site7-queue@.service").read_text()
    broken = WorkerSpec("queue", "deploynix-site7-queue", "/nonexistent/worker --run")
    status, out = await _apply(sshd_host, ssh_client_key[0], tmp_path, broken, OCTANE)
    assert (status, "nothing installed" in out) == (workers.CONFIG_REFUSED, True)
    assert (tmp_path / "deploynix-site7-queue@.service").read_text() == before
    assert not (tmp_path / "deploynix-site7-web@.service").exists()
