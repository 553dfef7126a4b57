"""A site's rolling deploy options, and the balancer link the worker hands the pipeline."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from deployments.context_builder import build_context
from deployments.models import Deployment
from deployments.pipeline.rolling import render
from loadbalancers.models import ApplyStatus, BalancedSite, LoadBalancer
from loadbalancers.selectors import rendered_config
from loadbalancers.services import balanced_site_set, load_balancer_create
from servers.models import Server
from tenancy.audit import Actor
from tests.fixtures.api import mint

pytestmark = pytest.mark.django_db


@pytest.fixture
def fronted(cast, add_web_server, make_lb_site):
    lb_server = Server.objects.create(organization=cast.org, name="lb-1", host="10.0.0.1")
    webs = [add_web_server("web-1", "10.0.0.11"), add_web_server("web-2", "10.0.0.12")]
    site = make_lb_site(webs)
    lb = load_balancer_create(org=cast.org, actor=Actor(user=cast.owner), server=lb_server,
                              name="front")
    balanced_site_set(load_balancer=lb, actor=Actor(user=cast.owner), site=site,
                      backends=[{"server": w.pk} for w in webs],
                      rolling={"batch_size": 2, "canary": True, "canary_seconds": 30})
    return lb, site


def _context(site):
    deployment = Deployment.objects.create(site=site, organization=site.organization,
                                           branch="main", status="running",
                                           release="20260101000000")
    return build_context(deployment)


def test_a_site_behind_an_applied_balancer_rolls_through_it(fronted):
    lb, site = fronted
    LoadBalancer.objects.filter(pk=lb.pk).update(apply_status=ApplyStatus.APPLIED)

    link = _context(site).balancer

    assert link is not None and link.label == "front"
    assert link.backends == {"web-1": "10.0.0.11", "web-2": "10.0.0.12"}
    assert (link.batch_size, link.canary, link.canary_seconds) == (2, True, 30.0)
    assert link.conf_path == lb.conf_path
    assert render(link, {}) == rendered_config(lb)  # no override: exactly the generated file
    assert "10.0.0.12:80 weight=1 max_fails=3 fail_timeout=10s down;" in render(
        link, {"web-2": "drained"})


def test_a_balancer_never_applied_rolls_nothing(fronted):
    _lb, site = fronted
    assert _context(site).balancer is None


def test_rolling_options_out_of_bounds_are_refused_and_nothing_is_written(cast, fronted):
    lb, site = fronted
    with pytest.raises(ValidationError) as refused:
        balanced_site_set(load_balancer=lb, actor=Actor(user=cast.owner), site=site,
                          backends=[{"server": s.pk} for s in site.servers.all()],
                          rolling={"batch_size": 0, "canary_seconds": 99999, "canary": "yes"})
    assert set(refused.value.message_dict) == {"batch_size", "canary_seconds", "canary"}
    entry = BalancedSite.objects.get(load_balancer=lb, site=site)
    assert (entry.batch_size, entry.canary_seconds, entry.canary) == (2, 30, True)


def test_the_api_sets_and_shows_rolling_options(client, cast, fronted):
    lb, site = fronted
    headers = {"HTTP_AUTHORIZATION": f"Bearer {mint(cast.manager, cast.org)}"}
    url = f"/api/v1/load-balancers/{lb.pk}/sites/{site.pk}/"
    body = {"backends": [{"server": s.pk} for s in site.servers.all()],
            "drain_seconds": 5, "canary_weight": 3}

    response = client.put(url, body, content_type="application/json", **headers)

    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["drain_seconds"], data["canary_weight"], data["batch_size"]) == (5, 3, 2)
    bad = client.put(url, {**body, "drain_seconds": 301}, content_type="application/json",
                     **headers)
    assert bad.status_code == 400
    assert BalancedSite.objects.get(load_balancer=lb, site=site).drain_seconds == 5
