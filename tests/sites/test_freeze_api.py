"""Freeze windows over the API: who may add and remove them (the table's `org_freezes` and
`site_gates`), the active freeze of a site, and a bad window refused with its field."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from sites.freezes import freeze_window_create
from sites.models import FreezeWindow
from tenancy.audit import Actor
from tenancy.roles import Cap
from tests.fixtures.matrix import EVERYONE, ROLES, allowed, api_status

WEEKLY = {"name": "Weekend", "kind": "weekly", "days": [5, 6], "start_time": "00:00",
          "end_time": "23:59", "time_zone": "Europe/Berlin"}


@pytest.mark.parametrize("who", [*ROLES, "anonymous"])
def test_org_windows_are_added_over_the_api_by_admins_and_up(api_as, cast, who):
    response = api_as(who).post("/api/v1/freeze-windows/", WEEKLY)
    assert response.status_code == api_status(Cap.ORG_FREEZES, who, ok=201)
    assert FreezeWindow.objects.filter(organization=cast.org).exists() == allowed(
        Cap.ORG_FREEZES, who)


def test_an_outsiders_token_adds_windows_to_its_own_organization_only(api_as, cast):
    assert api_as("outsider").post("/api/v1/freeze-windows/", WEEKLY).status_code == 201
    assert FreezeWindow.objects.get().organization == cast.other_org


@pytest.mark.parametrize("who", EVERYONE)
def test_site_windows_are_added_over_the_api_by_managers_and_up(api_as, site, who):
    response = api_as(who).post(f"/api/v1/sites/{site.pk}/freeze-windows/", WEEKLY)
    assert response.status_code == api_status(Cap.SITE_GATES, who, ok=201)
    assert FreezeWindow.objects.filter(site=site).exists() == allowed(Cap.SITE_GATES, who)


@pytest.mark.parametrize("who", ["owner", "admin", "manager", "developer"])
def test_an_org_window_is_removed_by_admins_and_up(api_as, cast, who):
    window = freeze_window_create(organization=cast.org, site=None, actor=Actor(user=cast.owner),
                                  name="w", kind="weekly", days=[1], start_time=time(1),
                                  end_time=time(2))
    response = api_as(who).delete(f"/api/v1/freeze-windows/{window.pk}/")
    assert response.status_code == api_status(Cap.ORG_FREEZES, who, ok=204)


def test_another_organizations_window_is_not_found(api_as, cast):
    window = freeze_window_create(organization=cast.other_org, site=None,
                                  actor=Actor(user=cast.outsider), name="theirs", kind="weekly",
                                  days=[1], start_time=time(1), end_time=time(2))
    assert api_as("owner").delete(f"/api/v1/freeze-windows/{window.pk}/").status_code == 404
    assert FreezeWindow.objects.filter(pk=window.pk).exists()


def test_a_site_lists_its_windows_and_the_active_freeze(api_as, cast, site):
    now = timezone.now()
    freeze_window_create(organization=cast.org, site=None, actor=Actor(user=cast.admin),
                         name="Holidays", kind="once", starts_at=now - timedelta(minutes=1),
                         ends_at=now + timedelta(days=2))
    body = api_as("viewer").get(f"/api/v1/sites/{site.pk}/freeze-windows/").json()
    assert body["active"]["window"]["name"] == "Holidays"
    assert [w["name"] for w in body["windows"]] == ["Holidays"]


def test_a_bad_window_is_refused_with_its_field(api_as):
    response = api_as("owner").post("/api/v1/freeze-windows/", {**WEEKLY, "days": []})
    assert response.status_code == 400 and "days" in response.json()
    assert not FreezeWindow.objects.exists()
