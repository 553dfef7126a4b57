"""Each Celery task of the deployments app is registered under its module's name, so the names
in routes, beat and send_task (deploynix/settings.py, deployments/celery_schedule.py) follow."""

from __future__ import annotations

from deployments import tasks
from deploynix.celery import app


def test_every_deployments_task_is_named_after_the_module_that_holds_it():
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if name.startswith("deployments.")}
    assert set(ours) == {"deployments.tasks.run_deployment", "deployments.tasks.watchdog",
                         "deployments.tasks.reconcile_site", "deployments.tasks.gates_sweep"}
    for name, task in ours.items():
        assert name == f"{task.run.__module__}.{task.run.__name__}"


def test_the_reconcile_receiver_sends_the_task_it_registers():
    assert tasks.reconcile_site.name == "deployments.tasks.reconcile_site"
