"""A site's worker, added through the service, follows deploys and rollbacks made through the
worker task: real sshd, git, database, and a supervisord the test starts (never the system's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployments.models import Deployment, Status, Trigger
from deployments.services import rollback_request
from deployments.tasks import run_deployment
from servers.models import Server
from sites.services import worker_create
from tenancy.audit import Actor
from tests.fixtures.stage import Stage, make_stage
from tests.fixtures.supervisor import kill_tagged, tagged_pids

pytestmark = [pytest.mark.ssh, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

WRITES_ITS_CWD = "sh -c 'pwd -P >> ../../shared/worker-cwds; exec sleep 9999'"


@pytest.fixture
def stage(cast, sshd_host, tmp_path: Path, supervisor) -> Stage:
    stage = make_stage(cast, sshd_host, tmp_path)
    Server.objects.update(supervisor_config=str(supervisor.config))
    worker_create(site=stage.site, actor=Actor(user=cast.manager), name="queue",
                  command=WRITES_ITS_CWD, processes=2, stop_wait_seconds=2)
    yield stage
    kill_tagged(f"@{stage.deploy_path}")


def deployed(deployment: Deployment) -> Deployment:
    run_deployment(deployment.pk)
    deployment.refresh_from_db()
    assert deployment.status == Status.SUCCEEDED, deployment.error
    return deployment


def worker_releases(stage: Stage) -> set[str]:
    return {Path(f"/proc/{pid}/cwd").readlink().name
            for pid in tagged_pids(f"@{stage.deploy_path}")}


def test_a_deploy_restarts_the_worker_onto_its_release_and_says_so(stage):
    first = deployed(stage.deploy(stage.release("1.0.0")))
    second = deployed(stage.deploy(stage.release("2.0.0")))
    assert worker_releases(stage) == {second.release} != {first.release}
    assert second.steps.get(name="restart_workers").status == "succeeded"


def test_a_rollback_restarts_the_worker_onto_the_old_release(stage, cast):
    first = deployed(stage.deploy(stage.release("1.0.0")))
    deployed(stage.deploy(stage.release("2.0.0")))
    deployed(rollback_request(site=stage.site, actor=Actor(user=cast.developer),
                              release=first.release, trigger=Trigger.MANUAL))
    assert worker_releases(stage) == {first.release}
