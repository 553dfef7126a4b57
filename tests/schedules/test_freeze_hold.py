"""A scheduled deploy that falls due during a freeze window is held, not queued, and the
gates sweep queues it once the window has ended."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from deployments.models import Status
from deployments.tasks import gates_sweep
from schedules.tasks import fire_due_schedules
from sites.freezes import freeze_window_create
from tenancy.audit import Actor


def test_a_due_schedule_during_a_freeze_is_held_then_released(schedule, site, cast):
    now = timezone.now()
    window = freeze_window_create(organization=cast.org, site=None, actor=Actor(user=cast.admin),
                                  name="Quarter close", kind="once",
                                  starts_at=now - timedelta(minutes=1),
                                  ends_at=now + timedelta(hours=1))
    due = schedule(minutes=-1)
    fire_due_schedules()
    due.refresh_from_db()
    assert due.deployment.status == Status.HELD
    window.starts_at, window.ends_at = now - timedelta(hours=2), now - timedelta(seconds=1)
    window.save(update_fields=["starts_at", "ends_at"])
    gates_sweep()
    due.deployment.refresh_from_db()
    assert due.deployment.status == Status.QUEUED
