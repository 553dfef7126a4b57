"""A worker paused (SIGSTOP) past the watchdog, with a second worker running: real processes.

The drill from issue 10: the watchdog declared the paused worker dead and the second worker
deployed; when the first resumed it switched `current` back to its own release. Now the
watchdog raises the site's epoch, the reconcile that follows (on the control worker, the
only one awake here) takes the server's lock at that epoch, stopping the paused
deployment's script on the server; the next deployment
takes the lock with a higher one, and the resumed worker changes nothing. A marker file on
the server records which executor did what, in order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from deployments.models import Deployment, LogLine, Status
from deployments.tasks import watchdog
from sites.services import site_update
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tests.deployments.workers import Worker, purge_queues
from tests.fixtures.sshd import process_running
from tests.fixtures.stage import finished, make_stage, wait_until

pytestmark = [
    pytest.mark.ssh, pytest.mark.redis, pytest.mark.slow, pytest.mark.sqlite,
    pytest.mark.django_db(transaction=True),
]

WATCHDOG_SECONDS = 5  # the smallest the settings accept


@pytest.fixture
def workers(transactional_db, tmp_path: Path):
    purge_queues()
    started: list[Worker] = []
    def start(name: str, queues: tuple[str, ...]) -> Worker:
        started.append(Worker.start(name, tmp_path, queues=queues))
        return started[-1]

    yield start
    for worker in started:
        worker.resume()
        worker.stop()


@override_settings(DEPLOY_WATCHDOG_SECONDS=WATCHDOG_SECONDS)
def test_a_resumed_worker_changes_nothing_after_its_deployment_was_given_away(
    cast, sshd_host, tmp_path, workers
):
    stage = make_stage(cast, sshd_host, tmp_path)
    order = tmp_path / "order"
    first = workers("first", ("deploy", "default"))
    site_update(site=stage.site, actor=Actor.system(), deploy_script=(
        f"echo paused-start >> {order}; echo started; sleep 93.25; echo paused-end >> {order}"
    ))
    paused = stage.deploy(stage.release("1.0.0"))
    wait_until(lambda: LogLine.objects.filter(deployment=paused, text="started").exists(),
               what="the slow step to start")
    first.pause()
    workers("control", ("control",))  # the only worker awake: the fence must come from it

    wait_until(lambda: paused.pk in watchdog()["failed"], timeout=60,
               what="the watchdog to give the deployment away")
    wait_until(lambda: _reconciled_after(paused), timeout=60, what="the reconcile that fences")
    assert not process_running("sleep 93.25")  # stopped on the server by the fence
    second = workers("second", ("deploy", "default"))

    site_update(site=stage.site, actor=Actor.system(),
                deploy_script=f"echo next >> {order}")
    [nxt] = finished(stage.deploy(stage.release("2.0.0")))
    first.resume()
    wait_until(lambda: b"succeeded in" in first.log.read_bytes(), timeout=60,
               what="the resumed worker to end its task")

    paused.refresh_from_db()
    assert nxt.status == Status.SUCCEEDED, nxt.error
    assert (paused.status, "worker lost" in paused.error) == (Status.FAILED, True)
    assert order.read_text() == "paused-start\nnext\n"
    assert (stage.deploy_path / "current").resolve().name == nxt.release
    assert second.alive
    [later] = finished(stage.deploy(stage.release("3.0.0")))
    assert later.status == Status.SUCCEEDED, later.error
    # Unlogged, so pruned once a releases.log exists (the first good deploy wrote it).
    assert not (stage.deploy_path / "releases" / paused.release).exists()


def _reconciled_after(deployment: Deployment) -> bool:
    deployment.refresh_from_db()
    return AuditEvent.objects.filter(
        verb="site.reconciled", created_at__gt=deployment.finished_at
    ).exists() if deployment.finished_at else False
