"""What a balancer accepts: backends of the site and organization, nginx's rules, bounded values;
a refusal says why and writes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from loadbalancers import validators as v
from loadbalancers.models import Backend, BalancedSite
from loadbalancers.services import (
    balanced_site_set,
    load_balancer_create,
    load_balancer_update,
)
from servers.models import Server
from tenancy.audit import Actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def lb(cast, lb_server):
    """A balancer on a server row (nothing is contacted here)."""
    return load_balancer_create(org=cast.org, actor=Actor(user=cast.manager), server=lb_server,
                                name="front")


@pytest.fixture
def lb_server(cast):
    return Server.objects.create(organization=cast.org, name="lb-1", host="10.0.0.1")


@pytest.fixture
def webs(add_web_server):
    return [add_web_server("web-1", "10.0.0.11"), add_web_server("web-2", "10.0.0.12")]


@pytest.fixture
def shop(make_lb_site, webs):
    return make_lb_site(webs)


def _set(cast, lb, site, backends, **options):
    return balanced_site_set(load_balancer=lb, actor=Actor(user=cast.manager), site=site,
                             backends=backends, **options)


def _errors(excinfo) -> str:
    return " ".join(m for ms in excinfo.value.message_dict.values() for m in ms)


def test_a_valid_site_is_stored_with_its_backends(cast, lb, shop, webs):
    entry = _set(cast, lb, shop, [{"server": webs[0].pk, "weight": 3},
                                  {"server": webs[1].pk, "backup": True}], method="least_conn")
    assert [(b.server_id, b.weight, b.backup) for b in entry.backends.order_by("server__name")] \
        == [(webs[0].pk, 3, False), (webs[1].pk, 1, True)]


def test_backup_with_ip_hash_is_refused_with_the_reason(cast, lb, shop, webs):
    with pytest.raises(ValidationError) as excinfo:
        _set(cast, lb, shop, [{"server": webs[0].pk}, {"server": webs[1].pk, "backup": True}],
             method="ip_hash")
    assert "cannot be used with IP hash" in _errors(excinfo)
    assert not BalancedSite.objects.exists()


def test_another_organizations_server_is_refused_like_a_missing_one(cast, lb, shop, webs):
    theirs = Server.objects.create(organization=cast.other_org, name="theirs", host="10.9.9.9")
    with pytest.raises(ValidationError) as excinfo:
        _set(cast, lb, shop, [{"server": webs[0].pk}, {"server": theirs.pk}])
    assert "No such server in this organization" in _errors(excinfo)


def test_a_server_not_running_the_site_is_refused(cast, lb, make_lb_site, webs):
    only_first = make_lb_site([webs[0]], name="blog")
    with pytest.raises(ValidationError) as excinfo:
        _set(cast, lb, only_first, [{"server": webs[0].pk}, {"server": webs[1].pk}])
    assert "web-2 does not run this site" in _errors(excinfo)


@pytest.mark.parametrize("rows", [
    [],
    [{"drained": True}],
    [{"backup": True}],
])
def test_at_least_one_enabled_primary_is_required(cast, lb, shop, webs, rows):
    backends = [{"server": webs[0].pk, **row} for row in rows]
    with pytest.raises(ValidationError):
        _set(cast, lb, shop, backends)


@pytest.mark.parametrize("weight", [0, 101, "3; down", True])
def test_weights_are_1_to_100(cast, lb, shop, webs, weight):
    with pytest.raises(ValidationError) as excinfo:
        _set(cast, lb, shop, [{"server": webs[0].pk, "weight": weight}])
    assert "weight between 1 and 100" in _errors(excinfo)


def test_a_refused_change_keeps_the_previous_backends(cast, lb, shop, webs):
    _set(cast, lb, shop, [{"server": webs[0].pk, "weight": 5}])
    with pytest.raises(ValidationError):
        _set(cast, lb, shop, [{"server": webs[0].pk, "weight": 500}])
    assert list(Backend.objects.values_list("weight", flat=True)) == [5]


@pytest.mark.parametrize(("field", "value"), [
    ("conf_dir", "/etc/nginx/../../tmp"),
    ("conf_dir", "etc/nginx"),
    ("log_dir", "/var/log; rm -rf /"),
    ("test_command", "nginx -t"),
    ("reload_command", []),
    ("reload_command", ["x" * 301]),
])
def test_directories_and_commands_are_bounded(cast, lb, field, value):
    with pytest.raises(ValidationError) as excinfo:
        load_balancer_update(load_balancer=lb, actor=Actor(user=cast.manager), **{field: value})
    assert field in excinfo.value.message_dict


@pytest.mark.parametrize("name", ["shop.example.com *.example.com", "", "_"])
def test_server_names_accept_host_names(name):
    assert v.clean_server_name(name) == name


@pytest.mark.parametrize("name", ["a;b", "x { }", "a'b"])
def test_server_names_refuse_config_syntax(name):
    with pytest.raises(ValidationError):
        v.clean_server_name(name)


def test_one_server_is_at_most_one_balancer(cast, lb, lb_server):
    with pytest.raises(ValidationError) as excinfo:
        load_balancer_create(org=cast.org, actor=Actor(user=cast.manager), server=lb_server,
                             name="second")
    assert "already a load balancer" in _errors(excinfo)
