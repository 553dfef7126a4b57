"""The organization's time zone on its settings page: Owners and Admins set it, audited; only
known IANA names; schedules are typed and shown in it (tests/schedules/)."""

from __future__ import annotations

import pytest

from tenancy.models import AuditEvent, Organization
from tenancy.roles import Cap
from tests.fixtures.matrix import EVERYONE, allowed, assert_page_access

URL = "/o/acme/settings/time-zone/"


def _zone() -> str:
    return Organization.objects.get(slug="acme").time_zone


@pytest.mark.parametrize("role", EVERYONE)
def test_only_members_with_the_settings_capability_set_it(cast, client_for, role):
    response = client_for(cast.user(role)).post(URL, {"time_zone": "Europe/Berlin"})
    assert_page_access(response, Cap.ORG_SETTINGS, role, ok=302)
    assert (_zone() == "Europe/Berlin") == allowed(Cap.ORG_SETTINGS, role)


def test_setting_it_is_audited_with_before_and_after(cast, client_for):
    client_for(cast.admin).post(URL, {"time_zone": "Asia/Tokyo"})
    event = AuditEvent.objects.get(verb="organization.time_zone")
    assert (event.before, event.after) == ({"time_zone": "UTC"}, {"time_zone": "Asia/Tokyo"})


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "x" * 500, "../../etc/passwd"])
def test_an_unknown_zone_is_refused_next_to_the_field(cast, client_for, name):
    response = client_for(cast.owner).post(URL, {"time_zone": name})
    assert response.status_code == 400 and "time_zone" in response.context["tz_form"].errors
    assert _zone() == "UTC"


def test_the_settings_page_shows_the_zone_and_is_in_the_navigation(cast, client_for):
    page = client_for(cast.owner).get("/o/acme/settings/security/").content.decode()
    assert '<option value="Europe/Berlin"' in page and ">Settings</a>" in page
