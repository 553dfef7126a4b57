"""Scheduling, cancelling and firing: each schedule fires once, as its creator, or not at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import timezone as tz

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from deployments.models import Deployment, Trigger
from schedules.models import ScheduleStatus
from schedules.services import (
    ScheduleError,
    schedule_cancel,
    schedule_create,
    schedule_fire,
    schedules_fire_due,
)
from schedules.tasks import fire_due_schedules
from tenancy.audit import Actor
from tenancy.models import AuditEvent, Membership
from tenancy.roles import Role

SHA = "c" * 40


def create(site, user, **fields):
    return schedule_create(site=site, actor=Actor(user=user), **fields)


def test_it_schedules_a_deploy_in_utc_and_audits_it(site, cast):
    paris = tz(timedelta(hours=1))
    schedule = create(site, cast.developer, run_at=datetime(2099, 1, 1, 9, 30, tzinfo=paris))
    assert schedule.run_at == datetime(2099, 1, 1, 8, 30, tzinfo=UTC)
    assert AuditEvent.objects.filter(verb="schedule.created", target_id=str(schedule.pk)).exists()


def test_it_refuses_a_past_time_with_a_field_error(site, cast):
    with pytest.raises(ValidationError) as exc:
        create(site, cast.developer, run_at=timezone.now() - timedelta(seconds=1))
    assert "future" in exc.value.message_dict["run_at"][0]


def test_it_refuses_a_naive_time_with_a_field_error(site, cast):  # the API and services: no guess
    with pytest.raises(ValidationError) as exc:
        create(site, cast.developer, run_at=datetime(2099, 1, 1, 9, 30))
    assert "UTC offset" in exc.value.message_dict["run_at"][0]


def test_it_refuses_a_commit_that_is_not_a_full_sha(site, cast):
    with pytest.raises(ValidationError) as exc:
        create(site, cast.developer, run_at=timezone.now() + timedelta(hours=1), commit="abc123")
    assert "commit" in exc.value.message_dict


def test_it_fires_a_due_schedule_as_its_creator(schedule, cast):
    pending = schedule(minutes=-1, commit=SHA)
    assert fire_due_schedules() == [pending.pk]
    deployment = Deployment.objects.get()
    assert (deployment.trigger, deployment.triggered_by, deployment.commit_sha) == (
        Trigger.SCHEDULE, cast.developer, SHA)
    assert AuditEvent.objects.get(verb="deployment.requested").source == AuditEvent.Source.SYSTEM


def test_it_fires_a_due_schedule_only_once(schedule):
    pending = schedule(minutes=-1)
    fire_due_schedules()
    fire_due_schedules()
    assert schedule_fire(schedule_id=pending.pk) is None  # the claim itself refuses, too
    assert Deployment.objects.count() == 1
    assert AuditEvent.objects.filter(verb="schedule.fired").count() == 1


def test_it_leaves_schedules_that_are_not_due(schedule):
    later = schedule(minutes=5)
    assert schedules_fire_due() == []
    later.refresh_from_db()
    assert later.status == ScheduleStatus.PENDING and not Deployment.objects.exists()


def test_it_never_fires_a_cancelled_schedule(schedule, cast):
    pending = schedule(minutes=5)
    schedule_cancel(schedule=pending, actor=Actor(user=cast.manager))
    assert schedules_fire_due(now=timezone.now() + timedelta(hours=1)) == []
    assert not Deployment.objects.exists()
    assert AuditEvent.objects.filter(verb="schedule.cancelled", actor=cast.manager).exists()


def test_it_refuses_to_cancel_a_fired_schedule(schedule, cast):
    pending = schedule(minutes=-1)
    fire_due_schedules()
    with pytest.raises(ScheduleError):
        schedule_cancel(schedule=pending, actor=Actor(user=cast.developer))


def test_it_cancels_instead_of_firing_when_the_creator_was_demoted(schedule, cast):
    pending = schedule(minutes=-1)
    Membership.objects.filter(user=cast.developer, organization=cast.org).update(role=Role.VIEWER)
    fire_due_schedules()
    pending.refresh_from_db()
    assert pending.status == ScheduleStatus.CANCELLED and not Deployment.objects.exists()
    assert "may no longer deploy" in pending.cancel_reason


def test_it_cancels_instead_of_firing_when_the_creator_was_removed(schedule, cast):
    pending = schedule(minutes=-1)
    Membership.objects.filter(user=cast.developer, organization=cast.org).delete()
    fire_due_schedules()
    pending.refresh_from_db()
    assert pending.status == ScheduleStatus.CANCELLED and not Deployment.objects.exists()
    assert "no longer a member" in pending.cancel_reason


def test_it_cancels_instead_of_firing_when_the_creator_was_deleted(schedule, cast):
    pending = schedule(minutes=-1)
    cast.developer.delete()
    fire_due_schedules()
    pending.refresh_from_db()
    assert pending.status == ScheduleStatus.CANCELLED and not Deployment.objects.exists()
    assert "developer@acme.test" in pending.cancel_reason
