"""Schedule pages: who may schedule and cancel (role matrix), field errors, the site panel."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from schedules.models import ScheduledDeploy, ScheduleStatus
from tenancy.access import Permissions
from tenancy.models import AuditEvent
from tenancy.roles import Cap, Role
from tests.fixtures.matrix import EVERYONE, allowed, assert_page_access

FUTURE = "2099-06-01T12:00+02:00"


def url(name: str, site, *args) -> str:
    return reverse(f"schedules:{name}", args=["acme", site.pk, *args])


@pytest.mark.parametrize("role", EVERYONE)
def test_it_lets_only_developers_and_up_schedule(cast, client_for, site, role):
    response = client_for(cast.user(role)).post(url("create", site), {"run_at": FUTURE})
    assert_page_access(response, Cap.DEPLOY, role, ok=302)
    assert ScheduledDeploy.objects.exists() == allowed(Cap.DEPLOY, role)


@pytest.mark.parametrize("role", EVERYONE)
def test_it_lets_only_developers_and_up_cancel(cast, client_for, site, schedule, role):
    pending = schedule(minutes=30)
    response = client_for(cast.user(role)).post(url("cancel", site, pending.pk))
    assert_page_access(response, Cap.DEPLOY, role, ok=302)
    pending.refresh_from_db()
    assert (pending.status == ScheduleStatus.CANCELLED) == allowed(Cap.DEPLOY, role)


@pytest.mark.parametrize("role", EVERYONE)
def test_it_shows_the_schedules_page_to_every_member(cast, client_for, site, role):
    response = client_for(cast.user(role)).get(url("list", site))
    assert_page_access(response, Cap.VIEW, role)


def test_it_audits_a_refused_schedule(cast, client_for, site):
    client_for(cast.viewer).post(url("create", site), {"run_at": FUTURE})
    assert AuditEvent.objects.filter(verb="permission.denied", actor=cast.viewer).exists()


def test_it_stores_the_creator_and_the_time_in_utc(cast, client_for, site):
    client_for(cast.developer).post(url("create", site), {"run_at": FUTURE, "commit": "A" * 40})
    schedule = ScheduledDeploy.objects.get()
    assert schedule.created_by == cast.developer and schedule.commit == "a" * 40
    assert schedule.run_at.isoformat() == "2099-06-01T10:00:00+00:00"


@pytest.mark.parametrize("run_at,message", [
    ("2001-06-01T12:00", "Pick a time in the future"),
    ("2001-06-01T12:00Z", "Pick a time in the future"),
    ("next tuesday", "Pick a date and a time"),
    ("2099-03-29T02:30", "does not exist in Europe/Berlin"),
    ("0001-01-01T00:30", "out of range"),
])
def test_it_shows_a_field_error_for_a_bad_time(cast, client_for, site, run_at, message):
    cast.org.time_zone = "Europe/Berlin"
    cast.org.save()
    response = client_for(cast.developer).post(url("create", site), {"run_at": run_at})
    assert response.status_code == 400 and message in response.context["form"].errors["run_at"][0]
    assert not ScheduledDeploy.objects.exists()


def test_it_reads_the_picked_time_in_the_organizations_time_zone(cast, client_for, site):
    cast.org.time_zone = "America/New_York"
    cast.org.save()
    client_for(cast.developer).post(url("create", site), {"run_at": "2099-06-01T09:00"})
    assert ScheduledDeploy.objects.get().run_at.isoformat() == "2099-06-01T13:00:00+00:00"


def test_it_offers_a_date_time_picker_in_the_organizations_zone(cast, client_for, site):
    cast.org.time_zone = "Asia/Tokyo"
    cast.org.save()
    page = client_for(cast.developer).get(url("create", site)).content.decode()
    assert 'type="datetime-local"' in page and "Asia/Tokyo" in page


def test_it_schedules_a_repeat_from_the_form_and_lists_it_in_words(cast, client_for, site):
    client = client_for(cast.developer)
    client.post(url("create", site), {"run_at": "", "cron": "0 6 * * 1-5"})
    assert ScheduledDeploy.objects.get().cron == "0 6 * * 1-5"
    assert "At 06:00, Monday through Friday" in client.get(url("list", site)).content.decode()


def test_it_previews_a_cron_expression_in_words_and_next_runs(cast, client_for, site):
    page = client_for(cast.developer).get(url("cron-preview", site), {"cron": "30 7 * * 1"})
    assert "At 07:30, only on Monday" in page.content.decode() and "Mon " in page.content.decode()


def test_it_previews_a_bad_cron_expression_with_its_reason(cast, client_for, site):
    page = client_for(cast.developer).get(url("cron-preview", site), {"cron": "* * * * *"})
    assert "every 10 minutes" in page.content.decode()


@pytest.mark.parametrize("role", EVERYONE)
def test_it_shows_the_cron_preview_to_deployers_only(cast, client_for, site, role):
    response = client_for(cast.user(role)).get(url("cron-preview", site), {"cron": "0 6 * * *"})
    assert_page_access(response, Cap.DEPLOY, role)


def test_it_hides_another_organizations_schedule(cast, client_for, site, schedule, make_site):
    pending = schedule(minutes=30)
    other_site = make_site(name="blog")
    response = client_for(cast.developer).post(url("cancel", other_site, pending.pk))
    assert response.status_code == 404


def test_it_renders_the_panel_with_cancel_buttons_only_for_deployers(site, schedule):
    pending = schedule(minutes=90)
    context = {"site": site, "schedules": [pending], "org": site.organization}

    def panel(role: Role) -> str:
        return render_to_string("schedules/_site_panel.html", {**context, "can": Permissions(role)})

    as_dev, as_viewer = panel(Role.DEVELOPER), panel(Role.VIEWER)
    assert pending.run_at.strftime("%Y-%m-%d %H:%M") in as_viewer
    assert url("cancel", site, pending.pk) in as_dev and "Cancel" not in as_viewer


def test_it_lists_schedules_in_constant_queries(cast, client_for, site, schedule):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(cast.developer)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("list", site)).status_code == 200
        return len(queries)

    schedule(minutes=30)
    one = count()
    for minutes in (40, 50, 60, -5):
        schedule(minutes=minutes)
    assert count() == one
