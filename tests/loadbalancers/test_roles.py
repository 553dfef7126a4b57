"""The role matrix of the load-balancer pages and API: everyone reads, Manager+ writes.

Refused → 403 inside the organization (and nothing changes), 404 for another organization,
log-in redirect (pages) or 401 (API) without credentials.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from loadbalancers.models import BalancedSite, LoadBalancer
from loadbalancers.services import balanced_site_set, load_balancer_create
from servers.models import Server
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tests.conftest import EVERYONE
from tests.fixtures.api import ALL_ABILITIES, Api, mint

pytestmark = pytest.mark.django_db
MEMBERS = {"owner", "admin", "manager", "developer", "viewer"}
MANAGERS = {"owner", "admin", "manager"}


@pytest.fixture
def world(cast, add_web_server, make_lb_site):
    lb_server = Server.objects.create(organization=cast.org, name="lb-1", host="10.0.0.1")
    spare = Server.objects.create(organization=cast.org, name="lb-2", host="10.0.0.2")
    web = add_web_server("web-1", "10.0.0.11")
    site = make_lb_site([web])
    lb = load_balancer_create(org=cast.org, actor=Actor(user=cast.owner), server=lb_server,
                              name="front")
    balanced_site_set(load_balancer=lb, actor=Actor(user=cast.owner), site=site,
                      backends=[{"server": web.pk}])
    return {"lb": lb, "site": site, "web": web, "spare": spare}


def _url(cast, name, world, **kwargs):
    return reverse(f"loadbalancers:{name}", kwargs={"org": cast.org.slug, **kwargs})


PAGES = [  # (url name, needs pk, needs site, method, data-builder, allowed, effect)
    ("list", False, False, "get", None, MEMBERS),
    ("detail", True, False, "get", None, MEMBERS),
    ("create", False, False, "get", None, MANAGERS),
    ("edit", True, False, "get", None, MANAGERS),
    ("site", True, True, "get", None, MANAGERS),
]


@pytest.mark.parametrize("who", EVERYONE)
@pytest.mark.parametrize(("name", "with_pk", "with_site", "method", "data", "allowed"), PAGES)
def test_pages(cast, client_for, world, who, name, with_pk, with_site, method, data, allowed):
    kwargs = {"pk": world["lb"].pk} if with_pk else {}
    if with_site:
        kwargs["site_id"] = world["site"].pk
    response = client_for(cast.user(who)).get(_url(cast, name, world, **kwargs))
    expected = 200 if who in allowed else {"outsider": 404, "anonymous": 302}.get(who, 403)
    assert response.status_code == expected


def _writes(world):
    lb, site, web, spare = world["lb"], world["site"], world["web"], world["spare"]
    return [
        ("create", {}, {"name": "new", "server": spare.pk, "conf_dir": "/etc/nginx/conf.d",
                        "log_dir": "/var/log/nginx", "test_command": "nginx -t",
                        "reload_command": "nginx -s reload"},
         lambda: LoadBalancer.objects.filter(name="new").exists()),
        ("edit", {"pk": lb.pk}, {"name": "renamed", "conf_dir": "/etc/nginx/lb",
                                 "log_dir": "/var/log/nginx", "test_command": "nginx -t",
                                 "reload_command": "nginx -s reload"},
         lambda: LoadBalancer.objects.filter(name="renamed").exists()),
        ("site", {"pk": lb.pk, "site_id": site.pk},
         {"method": "ip_hash", "listen_port": 80, "backend_port": 80, "server_name": "",
          f"b{web.pk}_use": "on", f"b{web.pk}_weight": 7},
         lambda: BalancedSite.objects.filter(method="ip_hash").exists()),
        ("apply", {"pk": lb.pk}, {},
         lambda: AuditEvent.objects.filter(verb="load_balancer.apply").exists()),
        ("check", {"pk": lb.pk}, {},
         lambda: AuditEvent.objects.filter(verb="load_balancer.check").exists()),
        ("site-remove", {"pk": lb.pk, "site_id": site.pk}, {},
         lambda: not BalancedSite.objects.exists()),
        ("delete", {"pk": lb.pk}, {}, lambda: not LoadBalancer.objects.filter(pk=lb.pk).exists()),
    ]


@pytest.mark.parametrize("who", EVERYONE)
@pytest.mark.parametrize("index", range(7))
def test_writes(cast, client_for, world, who, index):
    name, kwargs, data, happened = _writes(world)[index]
    response = client_for(cast.user(who)).post(_url(cast, name, world, **kwargs), data)
    if who in MANAGERS:
        assert response.status_code == 302, response.content[:2000]
        assert happened()
    else:
        expected = {"outsider": 404, "anonymous": 302}.get(who, 403)
        assert response.status_code == expected
        assert not happened()


def _api(client, cast, who) -> Api:
    if who == "anonymous":
        return Api(client, None)
    org = cast.other_org if who == "outsider" else cast.org
    return Api(client, mint(cast.user(who), org, ALL_ABILITIES))


API = [
    ("get", "/api/v1/load-balancers/", None, MEMBERS),
    ("get", "/api/v1/load-balancers/{lb}/", None, MEMBERS),
    ("get", "/api/v1/load-balancers/{lb}/sites/{site}/", None, MEMBERS),
    ("patch", "/api/v1/load-balancers/{lb}/", {"name": "renamed"}, MANAGERS),
    ("put", "/api/v1/load-balancers/{lb}/sites/{site}/",
     {"method": "least_conn", "backends": [{"server": "{web}", "weight": 2}]}, MANAGERS),
    ("post", "/api/v1/load-balancers/{lb}/apply/", None, MANAGERS),
    ("post", "/api/v1/load-balancers/{lb}/check/", None, MANAGERS),
    ("delete", "/api/v1/load-balancers/{lb}/sites/{site}/", None, MANAGERS),
    ("delete", "/api/v1/load-balancers/{lb}/", None, MANAGERS),
]


@pytest.mark.parametrize("who", EVERYONE)
@pytest.mark.parametrize(("method", "path", "body", "allowed"), API)
def test_api(client, cast, world, who, method, path, body, allowed):
    path = path.format(lb=world["lb"].pk, site=world["site"].pk)
    if body and "backends" in body:
        body = {**body, "backends": [{"server": world["web"].pk, "weight": 2}]}
    api = _api(client, cast, who)
    if method == "put":
        response = api.client.put(path, body, content_type="application/json", **api.headers)
    elif body is not None:
        response = getattr(api, method)(path, body)
    else:
        response = getattr(api, method)(path)
    if who in allowed:
        assert response.status_code in (200, 204), response.content[:500]
    elif who == "outsider" and path.endswith("load-balancers/"):
        assert response.status_code == 200  # their own (empty) list: ours is not in it
        assert response.json()["results"] == []
    else:
        expected = {"outsider": 404, "anonymous": 401}.get(who, 403)
        assert response.status_code == expected
