"""The balancer's stack check reads its live nginx over SSH: included, valid, as generated."""

from __future__ import annotations

import pytest

from loadbalancers.services import load_balancer_apply, load_balancer_check, load_balancer_update
from servers.stack.balancer import dump_argv, judge_balancer
from tenancy.audit import Actor

pytestmark = [pytest.mark.django_db, pytest.mark.web]


@pytest.fixture
def applied(cast, balancer, add_web_server, make_lb_site, front_site):
    web = add_web_server("web-1", "10.0.0.11")
    front_site(make_lb_site([web]), [{"server": web.pk}], listen_port=18765)
    return load_balancer_apply(load_balancer=balancer, actor=Actor(user=cast.manager))


def _levels(lb, cast) -> dict[str, str]:
    checked = load_balancer_check(load_balancer=lb, actor=Actor(user=cast.manager))
    return {f["code"]: f["level"] for f in checked.check_findings}


def test_an_applied_balancer_checks_ok(cast, applied):
    assert _levels(applied, cast) == {
        "lb_nginx_test": "ok", "lb_included": "ok", "lb_generated": "ok",
    }


def test_a_file_edited_by_hand_is_reported(cast, applied):
    with open(applied.conf_path, "a") as live:
        live.write("# tweaked\n")
    assert _levels(applied, cast)["lb_generated"] == "warning"


def test_a_directory_nginx_does_not_include_is_reported_though_nginx_t_passed(
    cast, applied, balancer_nginx
):
    """nginx -t accepts a file it never reads: only the dump shows nothing is balanced."""
    elsewhere = balancer_nginx.base / "not-included"
    elsewhere.mkdir()
    lb = load_balancer_update(load_balancer=applied, actor=Actor(user=cast.manager),
                              conf_dir=str(elsewhere))
    lb = load_balancer_apply(load_balancer=lb, actor=Actor(user=cast.manager))
    assert lb.apply_status == "applied"
    assert _levels(lb, cast)["lb_included"] == "error"


def test_judging_a_failed_dump_shows_nginxs_error():
    findings = judge_balancer(1, 'nginx: [emerg] unknown directive "x"', conf_path="/a.conf",
                              expected="")
    assert findings[0].level == "error" and "unknown directive" in findings[0].message


def test_the_dump_uses_the_test_commands_binary_prefix_and_config():
    assert dump_argv(["/usr/sbin/nginx", "-p", "/lb", "-c", "/lb/n.conf", "-t"]) == [
        "/usr/sbin/nginx", "-p", "/lb", "-c", "/lb/n.conf", "-T"]
    assert dump_argv(["sudo", "check-nginx"]) is None
