"""The Celery app's contract: JSON only, late acks, prefetch 1, a deploy queue, periodic tasks."""

from __future__ import annotations

from deploynix.celery import app


def test_it_speaks_only_json():
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]


def test_it_acknowledges_late_and_prefetches_one():
    assert app.conf.task_acks_late is True and app.conf.worker_prefetch_multiplier == 1


def test_it_routes_deployments_to_the_deploy_queue():
    assert app.conf.task_routes["deployments.tasks.run_deployment"] == {"queue": "deploy"}


def test_it_schedules_registered_periodic_tasks():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"deployments.tasks.watchdog", "schedules.tasks.fire_due_schedules"} <= scheduled
    assert scheduled <= set(app.tasks)
