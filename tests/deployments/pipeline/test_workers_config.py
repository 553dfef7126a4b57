"""The workers' generated config: supervisor programs (golden text), systemd units (checked by
`systemd-analyze verify`, which runs without a running systemd), Octane's graceful reload, and
how the report is judged. The real supervisord round trips are in test_workers.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from deployments.pipeline import workers
from deployments.pipeline.context import WorkerSpec
from tests.deployments.pipeline.contexts import make_ctx

R = "/srv/app/releases/20260102030405"
QUEUE = WorkerSpec("queue", "deploynix-site7-queue", "php artisan queue:work --sleep=3",
                   processes=2, stop_wait=30)
OCTANE = WorkerSpec("web", "deploynix-site7-web",
                    workers.octane_command("swoole"), octane="swoole")


def ctx(*specs: WorkerSpec):
    return make_ctx(worker_group="deploynix-site7", workers=specs)


def test_it_writes_one_supervisor_program_per_worker_run_from_current():
    text = workers.supervisor_config(ctx(QUEUE), "deploy")
    assert "[program:deploynix-site7-queue]\ncommand=php artisan queue:work --sleep=3\n" \
        "directory=/srv/app/current\n" in text
    assert "numprocs=2\nuser=deploy\n" in text and "stopwaitsecs=30\n" in text
    assert 'environment=DEPLOYNIX_WORKER="deploynix-site7-queue@/srv/app"' in text
    assert text.endswith("[group:deploynix-site7]\nprograms=deploynix-site7-queue\n")


def test_it_escapes_percent_signs_supervisor_would_expand():
    spec = WorkerSpec("cron", "deploynix-site7-cron", "date +%s")
    assert "command=date +%%s\n" in workers.supervisor_config(ctx(spec), "")


def test_it_installs_nothing_when_the_site_has_no_workers_left():
    apply = workers.apply(ctx(), "/etc/supervisor/supervisord.conf", "deploy")
    assert apply.stdin == b"" and apply.argv[-1] == "deploynix-site7"


def test_it_restarts_each_process_of_plain_workers_and_reloads_octane_gracefully():
    apply = workers.apply(ctx(QUEUE, OCTANE), "/etc/supervisor/supervisord.conf", "deploy")
    [reload] = workers.octane_reloads(ctx(QUEUE, OCTANE))
    assert apply.argv[-2:] == ("deploynix-site7:deploynix-site7-queue_00",
                               "deploynix-site7:deploynix-site7-queue_01")
    assert (reload.argv, reload.cwd) == (
        ("php", "artisan", "octane:reload", "--server=swoole"), "/srv/app/current")


def test_an_octane_daemon_runs_octane_start_from_current():
    text = workers.supervisor_config(ctx(OCTANE), "deploy")
    assert "command=php artisan octane:start --server=swoole --host=127.0.0.1 --port=8000\n" \
        "directory=/srv/app/current\n" in text


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not here")
@pytest.mark.parametrize("spec", [QUEUE, OCTANE, WorkerSpec(
    "odd", "deploynix-site7-odd", "bash -c 'echo \"$HOME\" 100% \\\\done; exec sleep 9'")])
def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path, spec: WorkerSpec):
    unit = tmp_path / workers.systemd_unit_name(spec)
    unit.write_text(workers.systemd_unit(ctx(spec), spec, "root"))
    verified = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                              text=True, timeout=60)
    assert verified.returncode == 0, verified.stderr
    assert "WorkingDirectory=/srv/app/current\n" in unit.read_text()


def test_the_systemd_unit_keeps_the_command_verbatim():
    spec = WorkerSpec("odd", "deploynix-site7-odd", "sh -c 'echo $HOME 100%'")
    text = workers.systemd_unit(ctx(spec), spec, "deploy")
    assert "ExecStart=sh -c 'echo $$HOME 100%%'\n" in text
    assert "TimeoutStopSec=10\n" in text and "User=deploy\n" in text


def test_an_octane_unit_reloads_with_octane_reload():
    text = workers.systemd_unit(ctx(OCTANE), OCTANE, "deploy")
    assert "ExecReload=php artisan octane:reload --server=swoole\n" in text


def report(*lines: str) -> workers.WorkerReport:
    return workers.parse_report([f"current {R}", *lines])


def test_it_finds_nothing_wrong_when_every_process_runs_the_release():
    seen = report("status deploynix-site7:deploynix-site7-queue_00 RUNNING pid 10, uptime 0:00:01",
                  "status deploynix-site7:deploynix-site7-queue_01 RUNNING pid 11, uptime 0:00:01",
                  f"proc deploynix-site7-queue@/srv/app 10 {R}",
                  f"proc deploynix-site7-queue@/srv/app 11 {R}/storage")
    assert workers.problems(ctx(QUEUE), seen, "20260102030405") == []


def test_it_names_the_worker_left_in_the_old_release_and_the_one_not_running():
    seen = report("status deploynix-site7:deploynix-site7-queue_00 RUNNING pid 10, uptime 0:00:01",
                  "status deploynix-site7:deploynix-site7-queue_01 FATAL Exited too quickly",
                  f"proc deploynix-site7-queue@/srv/app 10 {R}",
                  "proc deploynix-site7-queue@/srv/app 9 /srv/app/releases/20250101000000")
    assert workers.problems(ctx(QUEUE), seen, "20260102030405") == [
        "worker queue: process deploynix-site7-queue_01 is FATAL, not RUNNING",
        "worker queue: pid 9 still runs in /srv/app/releases/20250101000000, "
        f"not in the new release {R}",
    ]


def test_an_octane_daemon_its_reload_left_in_the_old_release_is_stale():
    # Octane keeps the base path it started in (laravel/octane#1004): a reload does not move it.
    seen = report("status deploynix-site7:deploynix-site7-web_00 RUNNING pid 20, uptime 1:00:00",
                  "proc deploynix-site7-web@/srv/app 20 /srv/app/releases/20250101000000")
    assert workers.stale_octane(ctx(QUEUE, OCTANE), seen) == [OCTANE]
    assert workers.problems(ctx(OCTANE), seen, "20260102030405") == [
        "worker web: pid 20 still runs in /srv/app/releases/20250101000000, "
        f"not in the new release {R}"]


def test_an_octane_daemon_in_the_new_release_is_not_stale():
    seen = report("status deploynix-site7:deploynix-site7-web_00 RUNNING pid 20, uptime 1:00:00",
                  f"proc deploynix-site7-web@/srv/app 20 {R}")
    assert workers.stale_octane(ctx(OCTANE), seen) == []


@pytest.mark.parametrize("command", ["", "  ", "php 'unclosed", "--flag first", "a\nb"])
def test_a_worker_command_must_be_one_program_line(command):
    with pytest.raises(ValueError):
        WorkerSpec("queue", "deploynix-site7-queue", command)
