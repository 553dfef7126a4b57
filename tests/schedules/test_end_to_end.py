"""End to end: a due schedule is fired by the beat task and really deploys its exact commit
over a real sshd (Celery eager: the deploy runs in this process, against the test database)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from deployments.models import Deployment, Status, Trigger
from schedules.services import schedule_create
from schedules.tasks import fire_due_schedules
from tenancy.audit import Actor

pytestmark = [pytest.mark.ssh, pytest.mark.redis, pytest.mark.slow,
              pytest.mark.django_db(transaction=True)]


def test_it_deploys_the_scheduled_commit_when_due(cast, stage, eager_celery):
    wanted = stage.repo.commit({"VERSION": "scheduled\n"}, "Release scheduled")
    stage.repo.commit({"VERSION": "newer\n"}, "A later commit that must not go out")
    schedule = schedule_create(site=stage.site, actor=Actor(user=cast.developer),
                               run_at=timezone.now() + timedelta(hours=1), commit=wanted)
    assert fire_due_schedules() == []  # not due yet
    schedule.__class__.objects.filter(pk=schedule.pk).update(run_at=timezone.now())
    assert fire_due_schedules() == [schedule.pk]
    deployment = Deployment.objects.get()
    assert (deployment.status, deployment.trigger, deployment.commit_sha) == (
        Status.SUCCEEDED, Trigger.SCHEDULE, wanted), deployment.error
    assert (Path(stage.site.deploy_path) / "current" / "VERSION").read_text() == "scheduled\n"


def test_it_deploys_a_recurring_schedule_when_due_and_keeps_it_for_the_next_run(
    cast, stage, eager_celery
):
    stage.repo.commit({"VERSION": "nightly\n"}, "Release nightly")
    schedule = schedule_create(site=stage.site, actor=Actor(user=cast.developer),
                               cron="0 3 * * *")
    schedule.__class__.objects.filter(pk=schedule.pk).update(run_at=timezone.now())
    assert fire_due_schedules() == [schedule.pk]
    schedule.refresh_from_db()
    assert Deployment.objects.get().status == Status.SUCCEEDED
    assert schedule.is_pending and schedule.run_at > timezone.now()
    assert (Path(stage.site.deploy_path) / "current" / "VERSION").read_text() == "nightly\n"
