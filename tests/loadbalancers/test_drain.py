"""Draining and enabling one backend (what deployments will call around a server's switch)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from loadbalancers.models import Backend
from loadbalancers.selectors import rendered_config
from loadbalancers.services import backend_set_drained, balanced_site_set, load_balancer_create
from servers.models import Server
from tenancy.audit import Actor
from tenancy.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def backends(cast, add_web_server, make_lb_site):
    lb_server = Server.objects.create(organization=cast.org, name="lb-1", host="10.0.0.1")
    webs = [add_web_server("web-1", "10.0.0.11"), add_web_server("web-2", "10.0.0.12")]
    lb = load_balancer_create(org=cast.org, actor=Actor(user=cast.owner), server=lb_server,
                              name="front")
    balanced_site_set(load_balancer=lb, actor=Actor(user=cast.owner), site=make_lb_site(webs),
                      backends=[{"server": w.pk} for w in webs])
    return lb, list(Backend.objects.order_by("server__name"))


def test_a_drained_backend_is_written_down_and_enabled_again(cast, backends):
    lb, (first, _second) = backends
    backend_set_drained(backend=first, actor=Actor(user=cast.manager), drained=True)
    assert "10.0.0.11:80 weight=1 max_fails=3 fail_timeout=10s down;" in rendered_config(lb)
    backend_set_drained(backend=first, actor=Actor(user=cast.manager), drained=False)
    assert " down;" not in rendered_config(lb)
    assert AuditEvent.objects.filter(verb="load_balancer.backend_drain").count() == 2


def test_the_last_enabled_primary_cannot_be_drained(cast, backends):
    _lb, (first, second) = backends
    backend_set_drained(backend=first, actor=Actor(user=cast.manager), drained=True)
    with pytest.raises(ValidationError):
        backend_set_drained(backend=second, actor=Actor(user=cast.manager), drained=True)
    assert not Backend.objects.get(pk=second.pk).drained
