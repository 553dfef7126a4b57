"""A site's hooks over the API: list, add, change, delete at the five points; changes need
the edit-hooks capability (Manager+, the roles table), outsiders get 404, inputs are bounded
(a bad one writes nothing) and every change is audited."""

from __future__ import annotations

import pytest

from sites.models import SiteHook
from sites.services import site_hooks_update
from sites.validators import MAX_DEPLOY_SCRIPT, MAX_HOOK_TIMEOUT
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tenancy.roles import Cap
from tests.fixtures.matrix import EVERYONE, api_status


@pytest.fixture
def hooked(site, cast):
    site_hooks_update(site=site, actor=Actor(user=cast.owner), hooks={
        "on_failure": ("echo cleaning", 60), "after_fetch": ("composer validate", 120)})
    return site


def hooks_url(site) -> str:
    return f"/api/v1/sites/{site.pk}/hooks/"


def stored_hooks() -> list[tuple]:
    return list(SiteHook.objects.order_by("point").values_list("point", "script", "timeout"))


def put(api, url: str, data: dict):
    return api.client.put(url, data, content_type="application/json", **api.headers)


@pytest.mark.parametrize("who", EVERYONE)
def test_hooks_are_listed_in_pipeline_order_to_every_member(api_as, hooked, who):
    response = api_as(who).get(hooks_url(hooked))
    assert response.status_code == api_status(Cap.VIEW, who)
    if response.status_code == 200:
        assert [h["point"] for h in response.json()] == ["after_fetch", "on_failure"]


@pytest.mark.parametrize("who", EVERYONE)
def test_a_hook_is_added_by_managers_and_up(api_as, site, who):
    body = {"point": "before_switch", "script": "php artisan about", "timeout": 90}
    response = api_as(who).post(hooks_url(site), body)
    assert response.status_code == api_status(Cap.EDIT_HOOKS, who, ok=201)
    assert site.hooks.filter(point="before_switch", timeout=90).exists() == (
        response.status_code == 201)


@pytest.mark.parametrize("who", EVERYONE)
def test_a_hook_is_changed_and_deleted_by_managers_and_up(api_as, hooked, who):
    api, url = api_as(who), f"{hooks_url(hooked)}on_failure/"
    assert api.patch(url, {"timeout": 30}).status_code == api_status(Cap.EDIT_HOOKS, who)
    assert api.delete(url).status_code == api_status(Cap.EDIT_HOOKS, who, ok=204)
    allowed = api_status(Cap.EDIT_HOOKS, who) == 200
    assert hooked.hooks.filter(point="on_failure").exists() != allowed


def test_put_replaces_the_script_and_every_change_is_audited(api_as, hooked):
    api, url = api_as("manager"), f"{hooks_url(hooked)}after_fetch/"
    response = put(api, url, {"script": "composer validate --strict"})
    assert response.status_code == 200, response.json()
    assert response.json() == {"point": "after_fetch", "label": "After fetch",
                               "script": "composer validate --strict", "timeout": 300}
    api.delete(url)
    events = AuditEvent.objects.filter(verb="site.hooks_updated").order_by("id")
    assert [e.after["hooks"] for e in events][-2:] == [
        {"on_failure": 60, "after_fetch": 300}, {"on_failure": 60}]


@pytest.mark.parametrize("body, field", [
    ({"point": "before_deploy", "script": "x"}, "point"),
    ({"point": "after_switch", "script": ""}, "script"),
    ({"point": "after_switch", "script": "x" * (MAX_DEPLOY_SCRIPT + 1)}, "script"),
    ({"point": "after_switch", "script": "x", "timeout": MAX_HOOK_TIMEOUT + 1}, "timeout"),
    ({"point": "after_switch", "script": "x", "timeout": 0}, "timeout"),
    ({"point": "after_switch", "script": "echo \u0000"}, "script"),
    ({"point": "on_failure", "script": "x"}, "point"),  # taken: change it instead
])
def test_a_bad_hook_is_refused_by_field_and_writes_nothing(api_as, hooked, body, field):
    before = stored_hooks()
    response = api_as("owner").post(hooks_url(hooked), body)
    assert response.status_code == 400 and field in response.json()
    assert stored_hooks() == before


def test_another_organizations_site_hooks_are_not_found(api_as, hooked):
    assert api_as("outsider").get(f"{hooks_url(hooked)}on_failure/").status_code == 404
    assert api_as("owner").get(f"{hooks_url(hooked)}before_switch/").status_code == 404
