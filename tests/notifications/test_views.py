"""Notification settings pages: role matrix per scope, last error shown, test message, audit."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Channel
from tenancy.models import AuditEvent
from tenancy.roles import Cap
from tests.fixtures.matrix import EVERYONE, allowed, assert_page_access

SCOPE_CAP = {"org": Cap.ORG_SETTINGS, "site": Cap.EDIT_SITES}  # who manages which channels


def url(name: str, *args) -> str:
    return reverse(f"notifications:{name}", args=["acme", *args])


def form(receiver, **fields) -> dict:
    return {"name": "Ops", "kind": "webhook", "target": receiver.url, "events": ["failed"],
            "enabled": "on", **fields}


@pytest.mark.parametrize("role", EVERYONE)
def test_it_lets_only_admins_add_org_wide_channels(cast, client_for, receiver, role):
    response = client_for(cast.user(role)).post(url("org-create"), form(receiver))
    assert_page_access(response, Cap.ORG_SETTINGS, role, ok=302)
    assert Channel.objects.exists() == allowed(Cap.ORG_SETTINGS, role)


@pytest.mark.parametrize("role", EVERYONE)
def test_it_lets_developers_and_up_add_site_channels(cast, client_for, receiver, site, role):
    response = client_for(cast.user(role)).post(url("site-create", site.pk), form(receiver))
    assert_page_access(response, Cap.EDIT_SITES, role, ok=302)
    assert Channel.objects.filter(site=site).exists() == allowed(Cap.EDIT_SITES, role)


@pytest.mark.parametrize("role", EVERYONE)
@pytest.mark.parametrize("scope", SCOPE_CAP)
def test_it_lets_only_the_scopes_managers_delete(cast, client_for, add_channel, site, role,
                                                 scope):
    channel = add_channel("webhook", site=site if scope == "site" else None)
    response = client_for(cast.user(role)).post(url("delete", channel.pk))
    assert_page_access(response, SCOPE_CAP[scope], role, ok=302)
    assert Channel.objects.filter(pk=channel.pk).exists() == (not allowed(SCOPE_CAP[scope], role))


@pytest.mark.parametrize("role", EVERYONE)
@pytest.mark.parametrize("scope", SCOPE_CAP)
def test_it_shows_the_settings_pages_to_the_scopes_managers(cast, client_for, site, role, scope):
    path = url("org") if scope == "org" else url("site", site.pk)
    assert_page_access(client_for(cast.user(role)).get(path), SCOPE_CAP[scope], role)


def test_it_audits_a_refused_change_of_an_org_channel(cast, client_for, add_channel):
    channel = add_channel("webhook")
    client_for(cast.developer).post(url("delete", channel.pk))
    assert AuditEvent.objects.filter(verb="permission.denied", actor=cast.developer).exists()


def test_it_shows_the_last_error_and_when(cast, client_for, add_channel):
    channel = add_channel("slack")
    Channel.objects.filter(pk=channel.pk).update(last_error="127.0.0.1 answered HTTP 500",
                                                 last_error_at=timezone.now())
    page = client_for(cast.admin).get(url("org")).content.decode()
    assert "127.0.0.1 answered HTTP 500" in page and "failing" in page
    assert "s3cr3t" not in page  # the URL's secret path is never listed


def test_it_shows_a_webhook_secret_on_its_edit_page(cast, client_for, add_channel):
    channel = add_channel("webhook")
    assert channel.secret in client_for(cast.admin).get(url("edit", channel.pk)).content.decode()


def test_it_edits_events_but_never_the_type(cast, client_for, add_channel, receiver):
    channel = add_channel("webhook")
    client_for(cast.admin).post(url("edit", channel.pk), form(receiver, kind="email",
                                                             events=["started", "failed"]))
    channel.refresh_from_db()
    assert channel.kind == "webhook" and channel.events == ["started", "failed"]


def test_it_sends_a_test_message(cast, client_for, add_channel, receiver, eager_celery,
                                 django_capture_on_commit_callbacks):
    channel = add_channel("webhook", enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(cast.admin).post(url("test", channel.pk))
    assert [r.json()["type"] for r in receiver.requests] == ["deployment.test"]


def test_it_shows_a_field_error_for_a_bad_url(cast, client_for, receiver):
    response = client_for(cast.admin).post(url("org-create"), form(receiver, target="ftp://x/y"))
    assert "https://" in response.context["form"].errors["target"][0]


def test_it_hides_another_organizations_channel(cast, client_for, add_channel):
    theirs = add_channel("webhook", organization=cast.other_org)
    assert client_for(cast.admin).get(url("edit", theirs.pk)).status_code == 404


def test_it_lists_channels_in_constant_queries(cast, client_for, add_channel):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(cast.admin)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("org")).status_code == 200
        return len(queries)

    add_channel("webhook")
    one = count()
    for n in range(4):
        add_channel("slack", name=f"slack {n}")
    assert count() == one
