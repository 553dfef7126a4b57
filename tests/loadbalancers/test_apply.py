"""Applying a balancer's config over SSH to a real nginx: nginx -t first, the last good kept."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from loadbalancers.models import ApplyStatus
from loadbalancers.services import load_balancer_apply, load_balancer_update
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from testbed.web import SiteRoot, free_port
from tests.fixtures.web import make_release, switch_current

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.web]


@pytest.fixture
def backend_stack(tmp_path: Path, web_stack_factory):
    """One real web server answering "backend one" (static, so no PHP is needed)."""
    deploy = tmp_path / "app"
    release = make_release(deploy, "r1", "laravelish")
    (release / "public" / "index.html").write_text("backend one")
    (release / "public" / "index.php").unlink(missing_ok=True)
    switch_current(deploy, "r1")
    return web_stack_factory([SiteRoot(deploy)])


@pytest.fixture
def fronted(cast, balancer, add_web_server, make_lb_site, front_site, backend_stack):
    web = add_web_server("web-1")
    site = make_lb_site([web])
    port = free_port()
    front_site(site, [{"server": web.pk}], listen_port=port, backend_port=backend_stack.http_port)
    return balancer, port


def _get(port: int) -> bytes:
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()


def _apply(cast, balancer):
    return load_balancer_apply(load_balancer=balancer, actor=Actor(user=cast.manager))


def test_apply_puts_the_generated_config_live_and_traffic_flows(cast, fronted, balancer_nginx):
    balancer, port = fronted
    result = _apply(cast, balancer)
    assert result.apply_status == ApplyStatus.APPLIED, result.apply_output
    live = Path(balancer.conf_path).read_text()
    assert live == result.applied_config
    assert f"listen {port};" in live
    balancer_nginx.reloads_settled()
    assert _get(port) == b"backend one"
    assert AuditEvent.objects.filter(verb="load_balancer.apply").last().after["status"] == "applied"


def test_a_config_nginx_refuses_is_not_applied_the_previous_keeps_serving(
    cast, fronted, balancer_nginx
):
    balancer, port = fronted
    good = _apply(cast, balancer).applied_config
    balancer_nginx.reloads_settled()
    # A log directory that does not exist on the balancer: the new file fails `nginx -t`.
    load_balancer_update(load_balancer=balancer, actor=Actor(user=cast.manager),
                         log_dir="/nonexistent/deploynix-logs")
    result = _apply(cast, balancer)
    assert result.apply_status == ApplyStatus.REJECTED
    assert "/nonexistent/deploynix-logs" in result.apply_output
    assert "test failed" in result.apply_output  # nginx's own verdict is shown
    assert Path(balancer.conf_path).read_text() == good
    assert result.applied_config == good
    assert _get(port) == b"backend one"


def test_a_planted_invalid_directive_is_refused_and_leaves_nothing_new_live(
    cast, fronted, balancer_nginx
):
    balancer, port = fronted
    _apply(cast, balancer)
    balancer_nginx.reloads_settled()
    # Someone else's broken file in the same include dir: our apply must not reload over it.
    planted = balancer_nginx.conf_dir / "zz-broken.conf"
    planted.write_text("this_is_not_a_directive on;\n")
    load_balancer_update(load_balancer=balancer, actor=Actor(user=cast.manager), name="renamed")
    result = _apply(cast, balancer)
    assert result.apply_status == ApplyStatus.REJECTED
    assert 'unknown directive "this_is_not_a_directive"' in result.apply_output
    assert _get(port) == b"backend one"


def test_a_first_config_that_is_refused_leaves_no_file_behind(cast, fronted, balancer_nginx):
    balancer, _port = fronted
    load_balancer_update(load_balancer=balancer, actor=Actor(user=cast.manager),
                         log_dir="/nonexistent/deploynix-logs")
    result = _apply(cast, balancer)
    assert result.apply_status == ApplyStatus.REJECTED
    assert sorted(p.name for p in balancer_nginx.conf_dir.iterdir() if p.suffix == ".conf") == []


def test_a_failing_reload_restores_the_previous_file(cast, fronted, balancer_nginx):
    balancer, port = fronted
    good = _apply(cast, balancer).applied_config
    load_balancer_update(load_balancer=balancer, actor=Actor(user=cast.manager),
                         reload_command=["false"], name="renamed")
    result = _apply(cast, balancer)
    assert result.apply_status == ApplyStatus.FAILED
    assert Path(balancer.conf_path).read_text() == good


def test_apply_refuses_a_server_without_a_pinned_host_key(cast, fronted, lb_server):
    balancer, _port = fronted
    lb_server.host_key = ""
    lb_server.save()
    result = _apply(cast, balancer)
    assert result.apply_status == ApplyStatus.FAILED
    assert "pinned host key" in result.apply_output
