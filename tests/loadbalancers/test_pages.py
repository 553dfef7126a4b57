"""The balancer page and the site page section show what a user needs to act."""

from __future__ import annotations

import pytest
from django.urls import reverse

from loadbalancers.models import ApplyStatus, LoadBalancer
from loadbalancers.services import balanced_site_set, load_balancer_create
from servers.models import Server
from tenancy.audit import Actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def fronted(cast, add_web_server, make_lb_site):
    lb_server = Server.objects.create(organization=cast.org, name="lb-1", host="10.0.0.1")
    webs = [add_web_server("web-1", "10.0.0.11"), add_web_server("web-2", "10.0.0.12")]
    site = make_lb_site(webs)
    lb = load_balancer_create(org=cast.org, actor=Actor(user=cast.owner), server=lb_server,
                              name="front")
    balanced_site_set(load_balancer=lb, actor=Actor(user=cast.owner), site=site,
                      method="least_conn", backends=[{"server": webs[0].pk, "weight": 3},
                                {"server": webs[1].pk, "drained": True}])
    return lb, site


def test_the_site_page_lists_its_balancers_with_method_and_backend_states(cast, client_for,
                                                                          fronted):
    lb, site = fronted
    page = client_for(cast.viewer).get(
        reverse("sites:detail", kwargs={"org": cast.org.slug, "pk": site.pk})).content.decode()
    assert 'id="load-balancers"' in page and "front" in page and "Least connections" in page
    assert "weight 3" in page and "drained" in page
    assert reverse("loadbalancers:site", kwargs={"org": cast.org.slug, "pk": lb.pk,
                                                 "site_id": site.pk}) not in page  # viewer


def test_the_balancer_page_shows_the_generated_config_as_pending(cast, client_for, fronted):
    lb, _site = fronted
    page = client_for(cast.manager).get(
        reverse("loadbalancers:detail", kwargs={"org": cast.org.slug, "pk": lb.pk})
    ).content.decode()
    assert "least_conn;" in page and "server 10.0.0.12:80 weight=1" in page
    assert "pending" in page


def test_a_refused_apply_shows_nginxs_words_on_the_page(cast, client_for, fronted):
    lb, _site = fronted
    LoadBalancer.objects.filter(pk=lb.pk).update(
        apply_status=ApplyStatus.REJECTED,
        apply_output='nginx: [emerg] unknown directive "bogus" in /etc/nginx/conf.d/x.conf:1',
    )
    page = client_for(cast.viewer).get(
        reverse("loadbalancers:detail", kwargs={"org": cast.org.slug, "pk": lb.pk})
    ).content.decode()
    assert "nginx refused the new config" in page
    assert "unknown directive &quot;bogus&quot;" in page


def test_a_backup_with_ip_hash_form_error_is_shown_on_the_form(cast, client_for, fronted):
    lb, site = fronted
    web = site.servers.order_by("name").first()
    url = reverse("loadbalancers:site", kwargs={"org": cast.org.slug, "pk": lb.pk,
                                                "site_id": site.pk})
    response = client_for(cast.manager).post(url, {
        "method": "ip_hash", "listen_port": 80, "backend_port": 80,
        f"b{web.pk}_use": "on", f"b{web.pk}_weight": 1, f"b{web.pk}_backup": "on",
    })
    assert response.status_code == 200
    assert "cannot be used with IP hash" in response.content.decode()


def test_a_server_taken_off_the_site_leaves_the_config_and_is_flagged(cast, client_for, fronted):
    lb, site = fronted
    web2 = site.servers.get(name="web-2")
    site.servers.remove(web2)
    page = client_for(cast.viewer).get(
        reverse("loadbalancers:detail", kwargs={"org": cast.org.slug, "pk": lb.pk})
    ).content.decode()
    assert "10.0.0.12" not in page.split('id="generated-config"')[1]
    assert "web-2 no longer runs shop" in page
