"""run_deployment called in-process (no broker): real sshd, real git, real database and Redis."""

from __future__ import annotations

import threading

import pytest

from deployments import lifecycle
from deployments.models import Deployment, LogLine, Status, Trigger
from deployments.services import deployment_cancel, rollback_request
from deployments.tasks import run_deployment
from servers.models import Server
from tenancy.audit import Actor
from tests.fixtures.stage import finished, wait_until

pytestmark = [pytest.mark.ssh, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_it_deploys_and_records_steps_commit_and_release(stage):
    sha = stage.release("1.0.0")
    deployment = stage.deploy()
    run_deployment(deployment.pk)
    deployment.refresh_from_db()
    assert (deployment.status, deployment.commit_sha) == (Status.SUCCEEDED, sha), deployment.error
    assert (stage.deploy_path / "current").readlink().name == deployment.release
    assert deployment.steps.filter(status="succeeded").exists()


def test_it_fails_and_frees_the_site_when_the_server_is_unreachable(stage, sshd_host):
    Server.objects.update(port=1)  # nothing listens on 127.0.0.1:1
    failed = stage.deploy(stage.release("1.0.0"))
    run_deployment(failed.pk)
    failed.refresh_from_db()
    waiting = stage.deploy(stage.release("2.0.0"))  # (a request while one waits supersedes it)
    assert failed.status == Status.FAILED and failed.error
    assert lifecycle.deployment_claim(waiting.pk) is not None


def test_it_cancels_a_running_deployment_within_seconds(stage, cast):
    stage.site.deploy_script = "echo slow-step; sleep 60"
    stage.site.save()
    deployment = stage.deploy(stage.release("1.0.0"))
    runner = threading.Thread(target=run_deployment, args=(deployment.pk,))
    runner.start()
    wait_until(lambda: LogLine.objects.filter(deployment=deployment, text="slow-step").exists(),
               what="the slow step")
    deployment_cancel(deployment=deployment, actor=Actor(user=cast.developer))
    [deployment] = finished(deployment, timeout=30)
    runner.join(30)
    assert deployment.status == Status.CANCELLED
    assert not (stage.deploy_path / "releases" / deployment.release).exists()


def test_it_runs_a_rollback_to_the_previous_release(stage):
    first = stage.deploy(stage.release("1.0.0"))
    run_deployment(first.pk)
    second = stage.deploy(stage.release("2.0.0"))
    run_deployment(second.pk)
    first.refresh_from_db()
    rollback = rollback_request(site=stage.site, release=first.release, actor=Actor.system(),
                                trigger=Trigger.MANUAL)
    run_deployment(rollback.pk)
    rollback.refresh_from_db()
    assert rollback.status == Status.SUCCEEDED, rollback.error
    assert (stage.deploy_path / "current").readlink().name == first.release
    assert Deployment.objects.filter(status=Status.SUCCEEDED).count() == 3
