"""The reconcile after a deployment: a succeeded one is reconciled from what its own
connections read at its end (no second round of connections); any other still asks the servers
(real sshd, real PostgreSQL; deployments run in-process as the worker runs them)."""

from __future__ import annotations

import pytest

from deployments import reconcile
from deployments.models import ServerReleaseFacts, Status
from deployments.tasks import run_deployment
from tenancy.models import AuditEvent

pytestmark = [pytest.mark.ssh, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _refuse_to_connect(*args, **kwargs):
    raise AssertionError("the reconcile connected to the server again")


def test_a_succeeded_deploy_is_reconciled_from_its_own_last_look(stage, monkeypatch):
    run_deployment(stage.deploy(stage.release("1.0.0")).pk)
    deployment = stage.deploy(stage.release("2.0.0"))
    monkeypatch.setattr(reconcile, "connect", _refuse_to_connect)

    run_deployment(deployment.pk)

    deployment.refresh_from_db()
    assert deployment.status == Status.SUCCEEDED, deployment.error
    facts = ServerReleaseFacts.objects.get(site=stage.site)
    assert (facts.current_release, facts.drift, facts.error) == (deployment.release, [], "")
    assert facts.observed_at >= deployment.finished_at
    assert deployment.release in facts.release_names
    assert AuditEvent.objects.filter(verb="site.reconciled", target_id=str(stage.site.pk)).exists()


def test_a_failed_deploy_is_reconciled_by_asking_the_servers(stage, eager_celery, monkeypatch):
    run_deployment(stage.deploy(stage.release("1.0.0")).pk)
    stage.site.deploy_script = "exit 3"
    stage.site.save(update_fields=["deploy_script"])
    asked = []
    real_observe = reconcile.observe

    async def counted(*args, **kwargs):
        asked.append(args[0].name)
        return await real_observe(*args, **kwargs)

    monkeypatch.setattr(reconcile, "observe", counted)
    deployment = stage.deploy(stage.release("2.0.0"))

    run_deployment(deployment.pk)

    deployment.refresh_from_db()
    assert deployment.status == Status.FAILED
    assert asked == ["web-1"]
    facts = ServerReleaseFacts.objects.get(site=stage.site)
    assert facts.observed_at >= deployment.finished_at
