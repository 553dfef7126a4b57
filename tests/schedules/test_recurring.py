"""Recurring schedules: created with their first run in the organization's time zone, fired by the
beat once per run (then moved to the next run, still pending), skipped, never lost, when a deploy
is refused, and ended like any schedule when the creator may no longer deploy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from deployments.models import Deployment
from schedules.cron import next_run
from schedules.models import ScheduledDeploy, ScheduleStatus
from schedules.services import schedule_create, schedule_fire
from schedules.tasks import fire_due_schedules
from tenancy.audit import Actor
from tenancy.models import AuditEvent, Membership
from tenancy.roles import Role
from tenancy.timezones import zone

WEEKDAYS_AT_SIX = "0 6 * * 1-5"


@pytest.fixture
def recurring(site, cast):
    """A recurring schedule of `site` by the developer, in an organization on Berlin time."""
    site.organization.time_zone = "Europe/Berlin"
    site.organization.save(update_fields=["time_zone"])
    return schedule_create(site=site, actor=Actor(user=cast.developer), cron=WEEKDAYS_AT_SIX)


def _make_due(schedule: ScheduledDeploy) -> datetime:
    due = timezone.now() - timedelta(minutes=1)
    ScheduledDeploy.objects.filter(pk=schedule.pk).update(run_at=due)
    return due


def test_it_starts_at_the_next_run_in_the_organizations_time_zone(recurring):
    expected = next_run(WEEKDAYS_AT_SIX, zone("Europe/Berlin"), recurring.created_at)
    assert recurring.run_at == expected
    assert recurring.run_at.astimezone(zone("Europe/Berlin")).hour == 6


def test_it_fires_and_stays_pending_with_its_next_run(recurring):
    _make_due(recurring)
    assert fire_due_schedules() == [recurring.pk]
    recurring.refresh_from_db()
    assert recurring.status == ScheduleStatus.PENDING and recurring.run_at > timezone.now()
    assert recurring.deployment == Deployment.objects.get()


def test_it_fires_once_per_run_even_when_asked_twice(recurring):
    due = _make_due(recurring)
    now = due + timedelta(seconds=30)
    assert schedule_fire(schedule_id=recurring.pk, now=now) is not None
    assert schedule_fire(schedule_id=recurring.pk, now=now) is None
    assert Deployment.objects.count() == 1


def test_it_skips_a_refused_run_and_keeps_the_next(recurring, site):
    site.servers.clear()  # a deploy with no server is refused
    _make_due(recurring)
    fire_due_schedules()
    recurring.refresh_from_db()
    assert recurring.status == ScheduleStatus.PENDING and not Deployment.objects.exists()
    assert AuditEvent.objects.filter(verb="schedule.skipped").exists()


def test_it_ends_when_the_creator_may_no_longer_deploy(recurring, cast):
    Membership.objects.filter(user=cast.developer).update(role=Role.VIEWER)
    _make_due(recurring)
    fire_due_schedules()
    recurring.refresh_from_db()
    assert recurring.status == ScheduleStatus.CANCELLED


@pytest.mark.parametrize("fields,field", [
    ({"cron": "* * * * *"}, "cron"),
    ({"cron": WEEKDAYS_AT_SIX, "run_at": datetime(2099, 1, 1, tzinfo=UTC)}, "cron"),
    ({}, "run_at"),
])
def test_it_refuses_bad_recurrence_with_a_field_error(site, cast, fields, field):
    with pytest.raises(ValidationError) as exc:
        schedule_create(site=site, actor=Actor(user=cast.developer), **fields)
    assert field in exc.value.message_dict
    assert not ScheduledDeploy.objects.exists()
