"""Workers follow `current`: a real supervisord (the test's own) runs the site's worker, and
every deploy and rollback restarts it onto the release it switched to, then verifies it there.

The worker is a shell that writes the directory it runs in and sleeps; supervisor starts it
from <deploy_path>/current, so /proc/<pid>/cwd names the release it really runs.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from deployments.pipeline import run_deploy, run_rollback, workers
from deployments.pipeline.context import WorkerSpec
from tests.deployments.pipeline.conftest import Site, run, without_build_tools
from tests.fixtures.supervisor import kill_tagged, tagged_pids

pytestmark = pytest.mark.ssh

GROUP = "deploynix-test"
WRITES_ITS_CWD = "sh -c 'pwd -P >> ../../shared/worker-cwds; exec sleep 9999'"
# Leaves a child in a session of its own that ignores SIGTERM (inherited by sleep): the
# restart kills the worker's process group, never that child, which stays in the old release.
LEAVES_A_CHILD = ("sh -c 'setsid sh -c \"trap \\\"\\\" TERM HUP; exec sleep 9998\" "
                  "</dev/null >/dev/null 2>&1 & exec sleep 9999'")


def worker(command: str = WRITES_ITS_CWD, processes: int = 2) -> WorkerSpec:
    return WorkerSpec("queue", f"{GROUP}-queue", command, processes=processes, stop_wait=2)


@pytest.fixture
def workers_site(site: Site, supervisor):
    """The pipeline's site, its worker run by the test's supervisord; escapees killed after."""
    without_build_tools(site.repo)
    spec = dataclasses.replace(site.server(), supervisor_config=str(supervisor.config))

    def context(**overrides):
        values = dict(servers=(spec,), preset="php", worker_group=GROUP, workers=(worker(),))
        return site.context(**{**values, **overrides})

    site.workers_context = context
    yield site
    kill_tagged(f"@{site.deploy_path}")


def worker_cwds(site: Site) -> set[str]:
    """Where the site's worker processes run now (read here, independently of the pipeline)."""
    return {str(Path(f"/proc/{pid}/cwd").readlink()) for pid in tagged_pids(f"@{site.deploy_path}")}


def test_it_restarts_the_workers_onto_each_new_release(workers_site):
    first, _ = run(run_deploy, ctx := workers_site.workers_context())
    assert worker_cwds(workers_site) == {str(workers_site.release_dir(ctx))}
    workers_site.repo.commit({"VERSION": "2\n"}, "Release 2")
    second, sink = run(run_deploy, ctx2 := workers_site.workers_context())
    assert (first.status, second.status) == ("succeeded", "succeeded"), sink.errors
    assert worker_cwds(workers_site) == {str(workers_site.release_dir(ctx2))}
    assert f"workers run release {ctx2.release}: queue ×2" in sink.text()


def test_a_rollback_moves_the_workers_back(workers_site):
    run(run_deploy, old := workers_site.workers_context())
    run(run_deploy, workers_site.workers_context())
    result, sink = run(run_rollback, workers_site.workers_context(kind="rollback",
                                                                   release=old.release))
    assert result.status == "succeeded", sink.errors
    assert worker_cwds(workers_site) == {str(workers_site.release_dir(old))}


def test_a_worker_left_in_the_old_release_fails_the_step_and_switches_back(workers_site):
    leaves = (worker(LEAVES_A_CHILD, processes=1),)
    first, _ = run(run_deploy, old := workers_site.workers_context(workers=leaves))
    result, sink = run(run_deploy, workers_site.workers_context(workers=leaves))
    assert (first.status, result.status, result.failed_step) == (
        "succeeded", "failed", "restart_workers")
    assert "worker queue: pid" in result.error
    assert f"still runs in {workers_site.release_dir(old)}" in result.error
    assert workers_site.live() == old.release  # switched back, workers with it


def test_a_worker_that_cannot_start_fails_the_step(workers_site):
    broken = (worker("sh -c 'exit 3'", processes=1),)
    result, _ = run(run_deploy, workers_site.workers_context(workers=broken))
    assert (result.status, result.failed_step) == ("failed", "restart_workers")
    assert "worker queue: process deploynix-test-queue_00 is" in result.error


def test_deleting_the_last_worker_removes_its_program(workers_site, supervisor):
    program = supervisor.base / "conf.d" / f"{GROUP}.conf"
    run(run_deploy, workers_site.workers_context())
    installed = program.exists()
    result, sink = run(run_deploy, workers_site.workers_context(workers=()))
    assert result.status == "succeeded", sink.errors
    assert installed and not program.exists()
    assert "no such group" in supervisor.ctl("status", f"{GROUP}:*").stdout.lower()


def apply_script(supervisor, config: str) -> subprocess.CompletedProcess[str]:
    """workers_apply.sh run as the pipeline runs it (here: the test host is this machine)."""
    argv = ["sh", "-c", workers.APPLY_SCRIPT, "workers_apply", str(supervisor.config), GROUP]
    return subprocess.run(argv, input=config, capture_output=True, text=True, timeout=60)


def test_a_config_supervisor_refuses_leaves_the_previous_one_installed(
        workers_site, supervisor):
    ctx = workers_site.workers_context(workers=(worker("sleep 9997", processes=1),))
    good = workers.supervisor_config(ctx, "root")
    installed = apply_script(supervisor, good)
    refused = apply_script(supervisor, good.replace("[program:", "[program", 1))
    assert (installed.returncode, refused.returncode) == (0, workers.CONFIG_REFUSED)
    assert "the previous one is back" in refused.stderr
    assert (supervisor.base / "conf.d" / f"{GROUP}.conf").read_text() == good
    # Still supervisor's program (never deployed here, so it cannot start: no `current`).
    assert f"{GROUP}:{GROUP}-queue_00 " in supervisor.ctl("status", f"{GROUP}:*").stdout
    assert [p.name for p in (supervisor.base / "conf.d").iterdir()] == [f"{GROUP}.conf"]
