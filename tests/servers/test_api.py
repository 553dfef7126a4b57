"""/api/v1/servers/ and /api/v1/ssh-key/: role matrix, abilities, scoping."""

from __future__ import annotations

import pytest

from servers.models import Server
from servers.services import server_create
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tenancy.roles import Cap
from tests.fixtures.matrix import ROLES, api_status

LIST = "/api/v1/servers/"
# The outsider's token is valid for its own organization: its lists are tested apart.
MEMBERS_AND_ANONYMOUS = ROLES + ("anonymous",)


@pytest.fixture
def foreign_server(cast) -> Server:
    return server_create(org=cast.other_org, actor=Actor(user=cast.outsider), name="theirs",
                         host="127.0.0.2")


@pytest.mark.parametrize("who", MEMBERS_AND_ANONYMOUS)
def test_it_lists_servers_for_every_role(api_as, server, who):
    response = api_as(who).get(LIST)
    assert response.status_code == api_status(Cap.VIEW, who)
    if response.status_code == 200:
        assert [s["name"] for s in response.json()["results"]] == ["web-1"]


def test_it_hides_other_organizations_servers(api_as, server, foreign_server):
    names = [s["name"] for s in api_as("outsider").get(LIST).json()["results"]]
    assert names == ["theirs"]


@pytest.mark.parametrize("who", MEMBERS_AND_ANONYMOUS)
def test_it_creates_servers_for_managers_and_up(api_as, cast, who):
    response = api_as(who).post(LIST, {"name": "new", "host": "127.0.0.9", "port": 2222})
    assert response.status_code == api_status(Cap.MANAGE_SERVERS, who, ok=201)
    created = Server.objects.filter(organization=cast.org, name="new").exists()
    assert created == (response.status_code == 201)


def test_it_audits_api_writes_as_api(api_as, cast):
    api_as("owner").post(LIST, {"name": "new", "host": "127.0.0.9"})
    event = AuditEvent.objects.get(verb="server.create")
    assert (event.source, event.actor) == ("api", cast.owner)


def test_it_refuses_without_the_ability(api_as):
    api = api_as("owner", abilities=["server:read"])
    response = api.post(LIST, {"name": "new", "host": "127.0.0.9"})
    assert response.status_code == 403
    assert "server:write" in response.json()["detail"]


def test_it_answers_400_with_field_errors(api_as):
    response = api_as("owner").post(LIST, {"name": "bad", "host": "not a host; rm -rf /"})
    assert response.status_code == 400
    assert "host" in response.json()


def test_it_answers_404_for_another_organizations_server(api_as, foreign_server):
    url = f"{LIST}{foreign_server.pk}/"
    assert api_as("owner").get(url).status_code == 404
    assert api_as("owner").delete(url).status_code == 404


@pytest.mark.parametrize("who,expected", [("manager", 200), ("developer", 403), ("viewer", 403)])
def test_it_updates_servers_for_managers_and_up(api_as, server, who, expected):
    response = api_as(who).patch(f"{LIST}{server.pk}/", {"port": 2200})
    assert response.status_code == expected
    server.refresh_from_db()
    assert (server.port == 2200) == (expected == 200)


@pytest.mark.parametrize("who,expected", [("admin", 204), ("developer", 403)])
def test_it_deletes_servers_for_managers_and_up(api_as, server, who, expected):
    assert api_as(who).delete(f"{LIST}{server.pk}/").status_code == expected
    assert Server.objects.filter(pk=server.pk).exists() == (expected == 403)


@pytest.mark.parametrize("who,expected", [("manager", 202), ("developer", 403)])
def test_it_requests_a_check(api_as, server, who, expected):
    assert api_as(who).post(f"{LIST}{server.pk}/check/").status_code == expected
    assert AuditEvent.objects.filter(verb="server.check").exists() == (expected == 202)


@pytest.mark.parametrize("who", MEMBERS_AND_ANONYMOUS)
def test_it_shows_the_ssh_public_key(api_as, cast, who):
    response = api_as(who).get("/api/v1/ssh-key/")
    assert response.status_code == api_status(Cap.VIEW, who)
    if response.status_code == 200:
        assert response.json()["public_key"].startswith("ssh-ed25519 ")


def test_it_counts_queries_on_the_list(api_as, server, django_assert_max_num_queries):
    api = api_as("viewer")
    with django_assert_max_num_queries(6):
        api.get(LIST)


def test_it_audits_a_refused_write(api_as, cast):
    api_as("viewer").post(LIST, {"name": "new", "host": "127.0.0.9"})
    event = AuditEvent.objects.get(verb="permission.denied")
    assert (event.source, event.actor, event.after["capability"]) == \
        ("api", cast.viewer, "manage_servers")


def test_it_paginates_the_list(api_as, cast):
    Server.objects.bulk_create(Server(organization=cast.org, name=f"s{n:03}", host="127.0.0.1")
                               for n in range(51))
    body = api_as("viewer").get(LIST).json()
    assert (body["count"], len(body["results"])) == (51, 50)
    assert body["next"].endswith("?page=2")
