"""The load-balancer API: create and configure through the same services, clear 400s, scoped."""

from __future__ import annotations

import pytest

from loadbalancers.models import BalancedSite, LoadBalancer
from servers.models import Server
from tests.fixtures.api import ALL_ABILITIES, Api, mint

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, cast) -> Api:
    return Api(client, mint(cast.manager, cast.org, ALL_ABILITIES))


@pytest.fixture
def setup(cast, add_web_server, make_lb_site):
    lb_server = Server.objects.create(organization=cast.org, name="lb-1", host="10.0.0.1")
    webs = [add_web_server("web-1", "10.0.0.11"), add_web_server("web-2", "10.0.0.12")]
    return lb_server, webs, make_lb_site(webs)


def _put(api: Api, path: str, body: dict):
    return api.client.put(path, body, content_type="application/json", **api.headers)


def test_a_balancer_is_created_and_a_site_put_behind_it(api, setup):
    lb_server, webs, site = setup
    created = api.post("/api/v1/load-balancers/", {
        "name": "front", "server": lb_server.pk, "reload_command": ["nginx", "-s", "reload"],
    })
    assert created.status_code == 201, created.json()
    lb_id = created.json()["id"]
    response = _put(api, f"/api/v1/load-balancers/{lb_id}/sites/{site.pk}/", {
        "method": "least_conn",
        "backends": [{"server": webs[0].pk, "weight": 3}, {"server": webs[1].pk, "backup": True}],
    })
    assert response.status_code == 200, response.json()
    shown = api.get(f"/api/v1/load-balancers/{lb_id}/").json()
    assert shown["sites"][0]["method"] == "least_conn"
    assert [(b["server_name"], b["weight"], b["backup"]) for b in shown["sites"][0]["backends"]] \
        == [("web-1", 3, False), ("web-2", 1, True)]


def test_backup_with_ip_hash_is_a_400_that_says_why(api, setup, cast):
    lb_server, webs, site = setup
    created = api.post("/api/v1/load-balancers/", {"name": "front", "server": lb_server.pk})
    lb_id = created.json()["id"]
    response = _put(api, f"/api/v1/load-balancers/{lb_id}/sites/{site.pk}/", {
        "method": "ip_hash",
        "backends": [{"server": webs[0].pk}, {"server": webs[1].pk, "backup": True}],
    })
    assert response.status_code == 400
    assert "cannot be used with IP hash" in " ".join(response.json()["backends"])
    assert not BalancedSite.objects.exists()


def test_another_organizations_server_cannot_become_our_balancer(api, cast):
    theirs = Server.objects.create(organization=cast.other_org, name="theirs", host="10.9.9.9")
    response = api.post("/api/v1/load-balancers/", {"name": "front", "server": theirs.pk})
    assert response.status_code == 400
    assert not LoadBalancer.objects.exists()


def test_a_shell_string_as_command_is_refused(api, setup):
    lb_server, _webs, _site = setup
    response = api.post("/api/v1/load-balancers/", {
        "name": "front", "server": lb_server.pk, "test_command": "nginx -t; id",
    })
    assert response.status_code == 400
    assert not LoadBalancer.objects.exists()
