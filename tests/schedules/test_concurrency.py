"""Two beat processes at once: the conditional UPDATE lets exactly one of them fire a schedule."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from deployments.models import Deployment
from schedules.models import ScheduledDeploy, ScheduleStatus
from schedules.tasks import fire_due_schedules
from tenancy.models import AuditEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


@pytest.fixture(autouse=True)
def purge_deploy_queue():
    """The fired deploys really go to the broker (no worker here): drop them afterwards, so a
    later worker of this test run does not pick up ids from a database that no longer has them."""
    yield
    from deploynix.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge("deploy")


def fire_concurrently(threads: int = 2) -> list[list[int]]:
    """Run the beat task from `threads` threads (own DB connections), released together."""
    start, results = threading.Barrier(threads), []

    def tick() -> None:
        try:
            start.wait()
            results.append(fire_due_schedules())
        finally:
            connection.close()

    workers = [threading.Thread(target=tick) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return results


def test_it_fires_a_schedule_once_when_two_beats_race(schedule):
    pending = schedule(minutes=-1)
    results = fire_concurrently()
    assert sorted(results) == [[], [pending.pk]]
    assert Deployment.objects.count() == 1
    # Counted from the audit log: the duplicate-request guard cannot hide a second firing here.
    assert AuditEvent.objects.filter(verb="schedule.fired").count() == 1


def test_it_fires_many_schedules_once_each_under_four_beats(schedule, site, make_site):
    schedules = [schedule(minutes=-1, commit=f"{n:040x}") for n in range(1, 9)]
    fired = [pk for result in fire_concurrently(threads=4) for pk in result]
    assert sorted(fired) == sorted(s.pk for s in schedules)
    assert ScheduledDeploy.objects.filter(status=ScheduleStatus.FIRED).count() == 8
    assert Deployment.objects.count() == 8
