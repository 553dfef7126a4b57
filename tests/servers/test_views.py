"""Server pages: who may see and do what (role matrix), tenant isolation, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from servers.models import OrganizationKey, Server
from servers.selectors import server_list
from tenancy.models import AuditEvent
from tenancy.roles import Cap
from tests.fixtures.matrix import EVERYONE, allowed, assert_page_access

VALID = {"name": "web-9", "host": "web-9.example.com", "port": "2222", "user": "deploy"}


def url(name: str, *args) -> str:
    return reverse(name, args=["acme", *args])


@pytest.mark.parametrize("role", EVERYONE)
@pytest.mark.parametrize(
    "name,with_pk,cap",
    [
        ("servers:list", False, Cap.VIEW),
        ("servers:detail", True, Cap.VIEW),
        ("servers:ssh-key", False, Cap.VIEW),
        ("servers:create", False, Cap.MANAGE_SERVERS),
        ("servers:edit", True, Cap.MANAGE_SERVERS),
        ("servers:delete", True, Cap.MANAGE_SERVERS),
    ],
)
def test_it_shows_each_page_only_to_roles_allowed(
    cast, client_for, server, role, name, with_pk, cap
):
    path = url(name, server.pk) if with_pk else url(name)
    assert_page_access(client_for(cast.user(role)).get(path), cap, role)


@pytest.mark.parametrize("role", EVERYONE)
def test_it_lets_only_managers_add_a_server(cast, client_for, role):
    response = client_for(cast.user(role)).post(url("servers:create"), VALID)
    assert_page_access(response, Cap.MANAGE_SERVERS, role, ok=302)
    assert Server.objects.filter(name="web-9").exists() == allowed(Cap.MANAGE_SERVERS, role)


@pytest.mark.parametrize("role", EVERYONE)
def test_it_lets_only_managers_edit_a_server(cast, client_for, server, role):
    response = client_for(cast.user(role)).post(url("servers:edit", server.pk), VALID)
    assert_page_access(response, Cap.MANAGE_SERVERS, role, ok=302)
    server.refresh_from_db()
    assert (server.name == "web-9") == allowed(Cap.MANAGE_SERVERS, role)


@pytest.mark.parametrize("role", EVERYONE)
def test_it_lets_only_managers_delete_a_server(cast, client_for, server, role):
    response = client_for(cast.user(role)).post(url("servers:delete", server.pk))
    assert_page_access(response, Cap.MANAGE_SERVERS, role, ok=302)
    assert Server.objects.filter(pk=server.pk).exists() == (not allowed(Cap.MANAGE_SERVERS, role))


@pytest.mark.parametrize("role", EVERYONE)
def test_it_lets_only_managers_request_a_check(
    cast, client_for, server, role, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as enqueued:
        response = client_for(cast.user(role)).post(url("servers:check", server.pk))
    assert_page_access(response, Cap.MANAGE_SERVERS, role, ok=302)
    assert len(enqueued) == (1 if allowed(Cap.MANAGE_SERVERS, role) else 0)
    checked = AuditEvent.objects.filter(verb="server.check").exists()
    assert checked == allowed(Cap.MANAGE_SERVERS, role)


@pytest.mark.parametrize("role", EVERYONE)
def test_it_lets_only_managers_forget_a_pinned_host_key(cast, client_for, server, role):
    Server.objects.filter(pk=server.pk).update(
        host_key="ssh-ed25519 AAAA", host_key_fingerprint="SHA256:x"
    )
    response = client_for(cast.user(role)).post(url("servers:repin", server.pk))
    assert_page_access(response, Cap.MANAGE_SERVERS, role, ok=302)
    server.refresh_from_db()
    assert (server.host_key == "") == allowed(Cap.MANAGE_SERVERS, role)


@pytest.mark.parametrize("role", EVERYONE)
def test_it_lets_only_admins_rotate_the_ssh_key(cast, client_for, role):
    before = OrganizationKey.objects.get(organization=cast.org, superseded_at__isnull=True)
    response = client_for(cast.user(role)).post(url("servers:ssh-key-rotate"))
    assert_page_access(response, Cap.ORG_SETTINGS, role, ok=302)
    active = OrganizationKey.objects.get(organization=cast.org, superseded_at__isnull=True)
    assert (active.pk != before.pk) == allowed(Cap.ORG_SETTINGS, role)


@pytest.mark.parametrize(
    "name,method",
    [
        ("servers:detail", "get"),
        ("servers:edit", "get"),
        ("servers:delete", "post"),
        ("servers:check", "post"),
        ("servers:repin", "post"),
        ("servers:edit", "post"),
    ],
)
def test_it_hides_other_organizations_servers(cast, client_for, name, method):
    theirs = Server.objects.create(organization=cast.other_org, name="theirs", host="10.9.9.9")
    response = getattr(client_for(cast.owner), method)(url(name, theirs.pk), VALID)
    assert response.status_code == 404
    assert Server.objects.get(pk=theirs.pk).name == "theirs"


@pytest.mark.parametrize("name", ["servers:list", "servers:ssh-key"])
def test_it_renders_lists_in_a_constant_number_of_queries(cast, client_for, add_server, name):
    client = client_for(cast.viewer)
    counts = []
    for total in (2, 20):
        while Server.objects.for_org(cast.org).count() < total:
            add_server(name=f"web-{Server.objects.count()}")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(name)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_it_hides_manager_buttons_from_developers(cast, client_for, server):
    page = client_for(cast.developer).get(url("servers:detail", server.pk)).content.decode()
    assert url("servers:check", server.pk) not in page
    assert url("servers:edit", server.pk) not in page


def test_it_shows_manager_buttons_to_managers(cast, client_for, server):
    page = client_for(cast.manager).get(url("servers:detail", server.pk)).content.decode()
    assert url("servers:check", server.pk) in page and url("servers:delete", server.pk) in page


def test_it_renders_the_dashboard_panel_without_querying(
    cast, add_server, django_assert_num_queries
):
    add_server(name="web-1")
    add_server(name="web-2")
    servers = list(server_list(org=cast.org))
    with django_assert_num_queries(0):
        html = render_to_string("orgs/_servers_panel.html", {"servers": servers, "org": cast.org})
    assert "web-1" in html and 'class="badge new"' in html
