"""The Celery app's contract: JSON only, late acks, prefetch 1, the deploy and control queues,
periodic tasks that expire, a worker that outlives the broker, time limits above the deploy's."""

from __future__ import annotations

import pytest
from django.conf import settings
from kombu.utils.imports import symbol_by_name

from deployments.celery_schedule import beat_schedule, watchdog_tick
from deploynix.celery import BrokerRestartSafeConsumer, app

PERIODIC = {"deployments.tasks.watchdog", "schedules.tasks.fire_due_schedules"}


def test_it_speaks_only_json():
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]


def test_it_acknowledges_late_and_prefetches_one():
    assert app.conf.task_acks_late is True and app.conf.worker_prefetch_multiplier == 1


def test_it_routes_deployments_to_the_deploy_queue():
    assert app.conf.task_routes["deployments.tasks.run_deployment"] == {"queue": "deploy"}


def test_it_routes_the_periodic_tasks_to_the_control_queue_never_the_deploy_queue():
    assert {name: app.conf.task_routes[name]["queue"] for name in PERIODIC} == dict.fromkeys(
        PERIODIC, "control"
    )


def test_it_schedules_registered_periodic_tasks():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert PERIODIC <= scheduled
    assert scheduled <= set(app.tasks)


@pytest.mark.parametrize("name", sorted(app.conf.beat_schedule))
def test_its_periodic_messages_go_to_control_and_expire_before_the_next_tick(name):
    entry = app.conf.beat_schedule[name]
    assert entry["options"]["queue"] == "control"
    assert 0 < entry["options"]["expires"] < entry["schedule"]


@pytest.mark.parametrize("window,tick", [(90, 15.0), (600, 15.0), (30, 5.0), (5, 1.0)])
def test_the_watchdog_looks_several_times_per_heartbeat_window(window, tick):
    assert watchdog_tick(window) == tick
    entry = beat_schedule(window)["deployments-watchdog"]
    assert entry["schedule"] == tick and entry["options"]["expires"] < tick


def test_its_watchdog_tick_follows_the_configured_window():
    entry = app.conf.beat_schedule["deployments-watchdog"]
    assert entry["schedule"] == watchdog_tick(settings.DEPLOY_WATCHDOG_SECONDS)


def test_its_workers_retry_the_broker_for_ever_with_the_consumer_that_survives_a_restart():
    assert app.conf.broker_connection_retry is True
    assert app.conf.broker_connection_max_retries is None
    assert symbol_by_name(app.conf.worker_consumer) is BrokerRestartSafeConsumer
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is False


def test_it_gives_up_a_send_within_seconds_when_the_broker_is_unreachable():
    assert app.conf.broker_transport_options["socket_connect_timeout"] <= 5


def test_its_deploy_time_limits_are_above_the_pipelines_own():
    app.loader.import_default_modules()
    task = app.tasks["deployments.tasks.run_deployment"]
    assert settings.DEPLOY_TOTAL_TIMEOUT < task.soft_time_limit < task.time_limit


def test_redis_keeps_a_running_deployments_message_unacked_past_its_time_limit():
    app.loader.import_default_modules()
    task = app.tasks["deployments.tasks.run_deployment"]
    assert app.conf.broker_transport_options["visibility_timeout"] > task.time_limit
