"""End to end: real Celery workers deploy a real app over real sshd, served by nginx + php-fpm.

Two worker processes (`--pool threads -c 4`) share the test database and Redis. Deploys
of one site never overlap; a worker killed mid-deploy is declared lost by the watchdog
and the next deploy runs on the other worker.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import override_settings

from deploynix.audit import Actor
from deployments import lifecycle
from deployments.models import Deployment, LogLine, Status, Trigger
from deployments.services import deployment_request
from servers.models import OrganizationKey, Server
from sites.models import Site
from sites.services import site_create, site_update
from testbed.gitrepo import AppRepo
from testbed.sshd import SshdHost
from testbed.web import SiteRoot, WebStack
from tests.deployments.workers import Worker, purge_queues

pytestmark = [
    pytest.mark.ssh, pytest.mark.web, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
NO_BUILD_TOOLS = dict.fromkeys(("composer.json", "composer.lock", "package.json", "package-lock.json"))


@dataclass
class Stage:
    site: Site
    repo: AppRepo
    stack: WebStack
    workers: list[Worker]

    def deploy(self, commit: str) -> Deployment:
        return deployment_request(
            site=self.site, actor=Actor.system(), trigger=Trigger.API, commit=commit
        )

    def release(self, version: str) -> str:
        return self.repo.commit({"VERSION": f"{version}\n"}, f"Release {version}")


@pytest.fixture
def workers(transactional_db, tmp_path: Path):
    purge_queues()
    started = [Worker.start("w1", tmp_path), Worker.start("w2", tmp_path)]
    yield started
    for worker in started:
        worker.stop()


@pytest.fixture
def stage(cast, sshd_host: SshdHost, tmp_path: Path, workers) -> Stage:
    for key in OrganizationKey.objects.filter(organization=cast.org):
        sshd_host.add_authorized_key(key.public_key)
    server = Server.objects.create(
        organization=cast.org, name="web-1", host=sshd_host.host, port=sshd_host.port,
        user=sshd_host.user, host_key=sshd_host.host_key_line,
    )
    repo = AppRepo.create(tmp_path / "repos", "laravelish")
    repo.commit(NO_BUILD_TOOLS, "Plain PHP: nothing to install, so deploys take seconds")
    deploy_path = sshd_host.root / tmp_path.name / "site"
    stack = WebStack.start(tmp_path / "web", sites=[SiteRoot(deploy_path)])
    site = site_create(
        organization=cast.org, actor=Actor(user=cast.owner), servers=[server], name="demo",
        repository_url=repo.ssh_url(sshd_host.user, sshd_host.host, sshd_host.port),
        deploy_path=str(deploy_path), preset="php", reload_command=stack.reload_command,
        repository_host_keys=f"[{sshd_host.host}]:{sshd_host.port} {sshd_host.host_key_line}",
        env={"APP_NAME": "Demo", "DB_PASSWORD": "e2e-secret-password"},
        deploy_script='grep DB_PASSWORD "$SHARED_PATH/.env"',
    )
    sshd_host.add_authorized_key(site.deploy_key_public)
    yield Stage(site, repo, stack, workers)
    stack.stop()


def wait_until(predicate, timeout: float = 120.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def finished(*deployments: Deployment) -> list[Deployment]:
    def all_finished():
        rows = [Deployment.objects.get(pk=d.pk) for d in deployments]
        return rows if all(row.is_finished for row in rows) else None

    return wait_until(all_finished, what="deployments to finish")


def test_it_runs_two_triggers_one_after_the_other(stage):
    first = stage.deploy(stage.release("1.0.0"))
    second = stage.deploy(stage.release("2.0.0"))
    first, second = finished(first, second)
    assert (first.status, second.status) == (Status.SUCCEEDED, Status.SUCCEEDED), first.error
    last_of_first = max(step.finished_at for step in first.steps.all())
    assert last_of_first <= min(step.started_at for step in second.steps.all())
    assert b"2.0.0" in stage.stack.get("/")[1]


def test_it_never_stores_a_secret_env_value_in_the_log(stage):
    [deployment] = finished(stage.deploy(stage.release("1.0.0")))
    texts = " ".join(LogLine.objects.filter(deployment=deployment).values_list("text", flat=True))
    assert deployment.status == Status.SUCCEEDED, deployment.error
    assert "DB_PASSWORD=********" in texts and "e2e-secret-password" not in texts


@override_settings(DEPLOY_WATCHDOG_SECONDS=4)
def test_it_recovers_from_a_worker_killed_mid_deploy(stage):
    site_update(site=stage.site, actor=Actor.system(), deploy_script="echo slow-step; sleep 60")
    stuck = stage.deploy(stage.release("1.0.0"))
    wait_until(lambda: LogLine.objects.filter(deployment=stuck, text="slow-step").exists(),
               what="the slow step to start")
    site_update(site=stage.site, actor=Actor.system(), deploy_script="")
    waiting = stage.deploy(stage.release("2.0.0"))
    owner = wait_until(lambda: _worker_running(stage.workers, stuck.pk), what="worker lookup")
    owner.kill()
    wait_until(lambda: lifecycle.watchdog()["failed"], timeout=60, what="the watchdog")
    stuck, waiting = finished(stuck, waiting)
    assert (stuck.status, "worker lost" in stuck.error) == (Status.FAILED, True)
    assert waiting.status == Status.SUCCEEDED, waiting.error


def _worker_running(workers: list[Worker], deployment_id: int) -> Worker | None:
    from deploynix.celery import app

    active = app.control.inspect(timeout=2).active() or {}
    for worker in workers:
        if any(deployment_id in task.get("args", []) for task in active.get(worker.hostname, [])):
            return worker
    return None
