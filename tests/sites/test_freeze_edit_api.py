"""Editing a freeze window in place over the API (PUT and PATCH): the scope's capability
(`org_freezes`, `site_gates`), outsiders 404, validated like a new window (a bad edit writes
nothing) and audited."""

from __future__ import annotations

from datetime import time

import pytest

from sites.freezes import freeze_window_create
from sites.models import FreezeWindow
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tenancy.roles import Cap
from tests.fixtures.matrix import EVERYONE, api_status

ONCE = {"name": "Launch", "kind": "once", "time_zone": "UTC",
        "starts_at": "2027-01-04T08:00:00Z", "ends_at": "2027-01-04T18:00:00Z"}


@pytest.fixture
def site_window(cast, site) -> FreezeWindow:
    return freeze_window_create(organization=cast.org, site=site, actor=Actor(user=cast.owner),
                                name="Weekend", kind="weekly", days=[5, 6],
                                start_time=time(0), end_time=time(23, 59))


def url(window: FreezeWindow) -> str:
    return f"/api/v1/freeze-windows/{window.pk}/"


def put(api, window: FreezeWindow, data: dict):
    return api.client.put(url(window), data, content_type="application/json", **api.headers)


@pytest.mark.parametrize("who", EVERYONE)
def test_a_site_window_is_edited_by_managers_and_up(api_as, site_window, who):
    response = api_as(who).patch(url(site_window), {"name": "Long weekend", "days": [4, 5, 6]})
    assert response.status_code == api_status(Cap.SITE_GATES, who)
    site_window.refresh_from_db()
    edited = (site_window.name, site_window.days) == ("Long weekend", [4, 5, 6])
    assert edited == (response.status_code == 200)


@pytest.mark.parametrize("who", ["owner", "admin", "manager", "outsider"])
def test_an_org_window_is_edited_by_admins_and_up(api_as, cast, who):
    window = freeze_window_create(organization=cast.org, site=None, actor=Actor(user=cast.owner),
                                  name="w", kind="weekly", days=[1], start_time=time(1),
                                  end_time=time(2))
    response = api_as(who).patch(url(window), {"name": "Tuesday night"})
    assert response.status_code == api_status(Cap.ORG_FREEZES, who)


def test_put_replaces_the_window_and_is_audited(api_as, site_window):
    response = put(api_as("manager"), site_window, ONCE)
    assert response.status_code == 200, response.json()
    site_window.refresh_from_db()
    assert (site_window.kind, site_window.days, site_window.start_time) == ("once", [], None)
    event = AuditEvent.objects.get(verb="freeze_window.updated")
    assert (event.before["name"], event.after["name"]) == ("Weekend", "Launch")


def test_a_bad_edit_is_refused_by_field_and_changes_nothing(api_as, site_window):
    api = api_as("owner")
    assert put(api, site_window, {"name": "x", "kind": "weekly"}).json().keys() == {"days"}
    response = api.patch(url(site_window), {"time_zone": "Mars/Olympus", "name": "y"})
    assert response.status_code == 400 and "time_zone" in response.json()
    site_window.refresh_from_db()
    assert site_window.name == "Weekend"
    assert not AuditEvent.objects.filter(verb="freeze_window.updated").exists()


def test_an_overlong_name_is_refused(api_as, site_window):
    response = api_as("owner").patch(url(site_window), {"name": "n" * 101})
    assert response.status_code == 400 and "name" in response.json()
