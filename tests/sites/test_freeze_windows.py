"""Freeze windows: when one is active (one-off, weekly, past midnight, in its time zone), their
validation, and who may add or remove them (org windows Admin+, site windows Manager+)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sites.freezes import active_freeze, freeze_window_create, window_end_if_active
from sites.models import FreezeWindow
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tenancy.roles import Cap
from tests.fixtures.matrix import EVERYONE, allowed, assert_page_access

# 2026-12-04 is a Friday.
FRIDAY_NOON_UTC = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def weekly(days, start, end, zone="UTC") -> FreezeWindow:
    return FreezeWindow(name="w", kind="weekly", days=days, start_time=start, end_time=end,
                        time_zone=zone)


def test_it_is_active_inside_a_weekly_window_and_ends_at_its_end():
    window = weekly([4], time(9), time(17))
    assert window_end_if_active(window, FRIDAY_NOON_UTC) == datetime(2026, 12, 4, 17, tzinfo=UTC)
    assert window_end_if_active(window, FRIDAY_NOON_UTC + timedelta(hours=5)) is None


def test_it_is_inactive_on_other_days():
    assert window_end_if_active(weekly([3], time(9), time(17)), FRIDAY_NOON_UTC) is None


def test_it_runs_past_midnight_into_the_next_day():
    window = weekly([3], time(22), time(13))  # Thursday 22:00 to Friday 13:00
    assert window_end_if_active(window, FRIDAY_NOON_UTC) == datetime(2026, 12, 4, 13, tzinfo=UTC)


def test_it_ends_at_the_wall_clock_end_in_its_time_zone_given_in_utc():
    window = weekly([4], time(13), time(14), "Europe/Berlin")
    end = window_end_if_active(window, FRIDAY_NOON_UTC)
    assert (end, end.utcoffset()) == (datetime(2026, 12, 4, 13, tzinfo=UTC), timedelta(0))


def test_it_reads_wall_clock_times_in_the_window_time_zone():
    # 12:00 UTC is 13:00 in Berlin (winter): inside 13:00–14:00 there, outside it in UTC.
    assert window_end_if_active(weekly([4], time(13), time(14), "Europe/Berlin"),
                                FRIDAY_NOON_UTC) is not None
    assert window_end_if_active(weekly([4], time(13), time(14)), FRIDAY_NOON_UTC) is None


def test_a_one_off_window_is_active_between_its_instants():
    window = FreezeWindow(name="w", kind="once", starts_at=FRIDAY_NOON_UTC,
                          ends_at=FRIDAY_NOON_UTC + timedelta(days=1))
    assert window_end_if_active(window, FRIDAY_NOON_UTC) == window.ends_at
    assert window_end_if_active(window, window.ends_at) is None


def test_an_org_window_freezes_every_site_of_the_organization(cast, site):
    now = timezone.now()
    freeze_window_create(organization=cast.org, site=None, actor=Actor(user=cast.admin),
                         name="Holidays", kind="once", starts_at=now - timedelta(minutes=1),
                         ends_at=now + timedelta(hours=1))
    freeze = active_freeze(site, now)
    assert freeze is not None and freeze.window.name == "Holidays"
    assert "organization window “Holidays”" in freeze.text


@pytest.mark.parametrize("fields, field", [
    ({"kind": "once"}, "starts_at"),
    ({"kind": "weekly", "start_time": time(9), "end_time": time(17)}, "days"),
    ({"kind": "weekly", "days": [7], "start_time": time(9), "end_time": time(17)}, "days"),
    ({"kind": "weekly", "days": [1], "start_time": time(9), "end_time": time(9)}, "end_time"),
    ({"kind": "weekly", "days": [1], "start_time": time(9), "end_time": time(17),
      "time_zone": "Mars/Olympus"}, "time_zone"),
])
def test_it_refuses_a_bad_window_and_saves_nothing(cast, fields, field):
    with pytest.raises(ValidationError) as refused:
        freeze_window_create(organization=cast.org, site=None, actor=Actor(user=cast.admin),
                             name="bad", **fields)
    assert field in refused.value.message_dict
    assert not FreezeWindow.objects.exists()


def test_it_refuses_a_one_off_window_that_ends_before_it_starts(cast):
    now = timezone.now()
    with pytest.raises(ValidationError):
        freeze_window_create(organization=cast.org, site=None, actor=Actor(user=cast.admin),
                             name="bad", kind="once", starts_at=now, ends_at=now)


WEEKLY_FORM = {"name": "Weekend", "kind": "weekly", "time_zone": "Europe/Berlin",
               "days": ["5", "6"], "start_time": "00:00", "end_time": "23:59"}


@pytest.mark.parametrize("role", EVERYONE)
def test_org_windows_are_added_by_admins_and_up(client_for, cast, role):
    response = client_for(cast.user(role)).post("/o/acme/freezes/new/", WEEKLY_FORM)
    assert_page_access(response, Cap.ORG_FREEZES, role, ok=302)
    assert FreezeWindow.objects.filter(site=None).exists() == allowed(Cap.ORG_FREEZES, role)


@pytest.mark.parametrize("role", EVERYONE)
def test_site_windows_are_added_by_managers_and_up(client_for, cast, site, role):
    response = client_for(cast.user(role)).post(f"/o/acme/sites/{site.pk}/freezes/new/",
                                                WEEKLY_FORM)
    assert_page_access(response, Cap.SITE_GATES, role, ok=302)
    assert FreezeWindow.objects.filter(site=site).exists() == allowed(Cap.SITE_GATES, role)


@pytest.mark.parametrize("role", EVERYONE)
def test_site_windows_are_removed_by_managers_and_up(client_for, cast, site, role):
    window = freeze_window_create(organization=cast.org, site=site, actor=Actor(user=cast.owner),
                                  name="w", kind="weekly", days=[1], start_time=time(1),
                                  end_time=time(2))
    response = client_for(cast.user(role)).post(
        f"/o/acme/sites/{site.pk}/freezes/{window.pk}/delete/")
    assert_page_access(response, Cap.SITE_GATES, role, ok=302)
    assert FreezeWindow.objects.filter(pk=window.pk).exists() != allowed(Cap.SITE_GATES, role)


def test_adding_a_window_is_audited_with_when_it_applies(client_for, cast):
    client_for(cast.admin).post("/o/acme/freezes/new/", WEEKLY_FORM)
    event = AuditEvent.objects.get(verb="freeze_window.created")
    assert event.after["when"] == "Sat, Sun 00:00–23:59 Europe/Berlin"


def test_the_org_page_shows_form_errors_without_saving(client_for, cast):
    response = client_for(cast.admin).post("/o/acme/freezes/new/", {**WEEKLY_FORM, "days": []})
    assert response.status_code == 400
    assert "Choose at least one day" in response.content.decode()
    assert not FreezeWindow.objects.exists()


def test_the_org_page_marks_the_active_window(client_for, cast):
    now = timezone.now()
    freeze_window_create(organization=cast.org, site=None, actor=Actor(user=cast.admin),
                         name="Now", kind="once", starts_at=now - timedelta(minutes=1),
                         ends_at=now + timedelta(hours=1))
    page = client_for(cast.viewer).get("/o/acme/freezes/").content.decode()
    assert 'class="badge held">active' in page
