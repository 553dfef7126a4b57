"""End to end: real Celery workers deploy a real app over real sshd, served by nginx + php-fpm.

Two worker processes (`--pool threads -c 4`) share the test database and Redis. Deploys
of one site never overlap; a worker killed mid-deploy is declared lost by the watchdog
and the next deploy runs on the other worker.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from deployments.models import Deployment, LogLine, Status
from deployments.tasks import watchdog
from sites.services import site_update
from tenancy.audit import Actor
from testbed.web import SiteRoot, WebStack
from tests.deployments.workers import Worker, purge_queues
from tests.fixtures.stage import SECRET, Stage, finished, make_stage, wait_until

pytestmark = [
    pytest.mark.ssh, pytest.mark.web, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def workers(transactional_db, tmp_path: Path):
    purge_queues()
    started = [Worker.start("w1", tmp_path), Worker.start("w2", tmp_path)]
    yield started
    for worker in started:
        worker.stop()


@pytest.fixture
def web(tmp_path: Path, sshd_host):
    deploy_path = sshd_host.root / tmp_path.name / "site"  # where make_stage deploys
    stack = WebStack.start(tmp_path / "web", sites=[SiteRoot(deploy_path)])
    yield stack
    stack.stop()


@pytest.fixture
def stage(cast, sshd_host, tmp_path: Path, web, workers) -> Stage:
    return make_stage(cast, sshd_host, tmp_path, reload_method="php-fpm",
                      reload_command=web.reload_command)


def test_it_runs_two_triggers_one_after_the_other(stage, web):
    first = stage.deploy(stage.release("1.0.0"))
    second = stage.deploy(stage.release("2.0.0"))
    first, second = finished(first, second)
    assert (first.status, second.status) == (Status.SUCCEEDED, Status.SUCCEEDED), first.error
    last_of_first = max(step.finished_at for step in first.steps.all())
    assert last_of_first <= min(step.started_at for step in second.steps.all())
    assert b"2.0.0" in web.get("/")[1]


def test_it_never_stores_a_secret_env_value_in_the_log(stage):
    [deployment] = finished(stage.deploy(stage.release("1.0.0")))
    texts = " ".join(LogLine.objects.filter(deployment=deployment).values_list("text", flat=True))
    assert deployment.status == Status.SUCCEEDED, deployment.error
    assert "DB_PASSWORD=********" in texts and SECRET not in texts


@override_settings(DEPLOY_WATCHDOG_SECONDS=4)
def test_it_recovers_from_a_worker_killed_mid_deploy(stage, workers):
    site_update(site=stage.site, actor=Actor.system(), deploy_script="echo slow-step; sleep 60")
    stuck = stage.deploy(stage.release("1.0.0"))
    wait_until(lambda: LogLine.objects.filter(deployment=stuck, text="slow-step").exists(),
               what="the slow step to start")
    site_update(site=stage.site, actor=Actor.system(), deploy_script="")
    waiting = stage.deploy(stage.release("2.0.0"))
    owner = wait_until(lambda: _worker_running(workers, stuck.pk), what="its worker")
    owner.kill()
    wait_until(lambda: watchdog()["failed"], timeout=60, what="the watchdog")
    stuck, waiting = finished(stuck, waiting)
    assert (stuck.status, "worker lost" in stuck.error) == (Status.FAILED, True)
    assert waiting.status == Status.SUCCEEDED, waiting.error


def _worker_running(workers: list[Worker], deployment_id: int) -> Worker | None:
    """The worker whose active tasks include run_deployment(deployment_id)."""
    from deploynix.celery import app

    active = app.control.inspect(timeout=2).active() or {}
    for worker in workers:
        if any(deployment_id in task.get("args", []) for task in active.get(worker.hostname, [])):
            return worker
    return None


def test_it_follows_a_real_deploy_from_the_command_line(stage):
    stage.release("3.0.0")
    out = io.StringIO()
    call_command("deploy", "demo", "--org", "acme", stdout=out)  # raises unless it succeeded
    deployment = Deployment.objects.get(site=stage.site)
    assert f"Deploy {deployment.label} succeeded" in out.getvalue()  # per-site number
    assert "[web-1] DB_PASSWORD=********" in out.getvalue()
