"""The generated nginx config: exact directives per method and backend, and a real `nginx -t`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from loadbalancers import nginx
from testbed.balancer import nginx_test, prepare

PRIMARY = nginx.Backend("10.0.0.11", 80, weight=3)
SECOND = nginx.Backend("10.0.0.12", 80)


def _config(method: str = nginx.ROUND_ROBIN, *backends: nginx.Backend) -> nginx.BalancerConfig:
    site = nginx.BalancedSite(
        key="site7", server_name="shop.example.com", listen="80", method=method,
        backends=backends or (PRIMARY, SECOND),
    )
    return nginx.BalancerConfig(
        name="deploynix_lb1", access_log="/var/log/nginx/lb1.log", sites=(site,)
    )


def _upstream(text: str) -> list[str]:
    body = text.split("upstream deploynix_lb1_site7 {", 1)[1].split("}", 1)[0]
    return [line.strip() for line in body.strip().splitlines()]


def test_round_robin_writes_no_method_directive_and_each_backend_with_its_weight():
    assert _upstream(nginx.render(_config())) == [
        "server 10.0.0.11:80 weight=3 max_fails=3 fail_timeout=10s;",
        "server 10.0.0.12:80 weight=1 max_fails=3 fail_timeout=10s;",
        "keepalive 16;",
    ]


@pytest.mark.parametrize(("method", "directive"), [
    (nginx.LEAST_CONN, "least_conn;"), (nginx.IP_HASH, "ip_hash;"),
])
def test_the_method_is_the_first_directive_of_the_upstream(method, directive):
    assert _upstream(nginx.render(_config(method)))[0] == directive


def test_backup_and_drained_backends_are_marked():
    text = nginx.render(_config(
        nginx.ROUND_ROBIN, PRIMARY, replace(SECOND, backup=True),
        nginx.Backend("10.0.0.13", 8080, drained=True),
    ))
    assert "server 10.0.0.12:80 weight=1 max_fails=3 fail_timeout=10s backup;" in text
    assert "server 10.0.0.13:8080 weight=1 max_fails=3 fail_timeout=10s down;" in text


def test_the_proxy_keeps_connections_passes_the_host_and_retries_only_safe_failures():
    text = nginx.render(_config())
    for line in (
        "proxy_pass http://deploynix_lb1_site7;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_set_header Host $host;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_next_upstream error timeout http_502 http_503;",
        "proxy_read_timeout 60s;",
        "server_name shop.example.com;",
    ):
        assert line in text
    assert "non_idempotent" not in text.replace("`non_idempotent`", "")


def test_the_access_log_records_the_backend_and_its_status():
    text = nginx.render(_config())
    assert "access_log /var/log/nginx/lb1.log deploynix_lb1_upstream;" in text
    assert "upstream=$upstream_addr" in text
    assert "upstream_status=$upstream_status" in text


def test_an_ipv6_backend_is_bracketed():
    assert nginx.backend_address("fd00::5", 80) == "[fd00::5]:80"


@pytest.mark.parametrize("config", [
    _config(nginx.IP_HASH, PRIMARY, replace(SECOND, backup=True)),
    _config(nginx.ROUND_ROBIN, replace(PRIMARY, drained=True), replace(SECOND, backup=True)),
    _config(nginx.ROUND_ROBIN, replace(PRIMARY, host="10.0.0.1; include /etc/passwd")),
    replace(_config(), access_log="/var/log/x.log; error_log /tmp/x"),
    _config(nginx.ROUND_ROBIN, replace(PRIMARY, weight=0)),
])
def test_the_generator_refuses_what_nginx_would_refuse_or_misread(config):
    with pytest.raises(nginx.ConfigError):
        nginx.render(config)


@pytest.mark.parametrize("method", [nginx.ROUND_ROBIN, nginx.LEAST_CONN, nginx.IP_HASH])
def test_the_config_of_every_method_passes_nginx_t(tmp_path: Path, method: str):
    prepare(tmp_path)
    backends = (PRIMARY, nginx.Backend("10.0.0.13", 80, drained=True), SECOND)
    if method != nginx.IP_HASH:
        backends += (nginx.Backend("10.0.0.14", 80, backup=True),)
    config = replace(_config(method, *backends), access_log=str(tmp_path / "logs" / "lb.log"))
    (tmp_path / "conf.d" / "lb.conf").write_text(nginx.render(config))
    result = nginx_test(tmp_path)
    assert result.returncode == 0, result.stderr


def test_nginx_t_would_refuse_backup_with_ip_hash_which_is_why_we_refuse_it(tmp_path: Path):
    prepare(tmp_path)
    text = nginx.render(_config(nginx.IP_HASH)).replace("weight=1 max_fails=3 fail_timeout=10s;",
                                                        "weight=1 backup;")
    (tmp_path / "conf.d" / "lb.conf").write_text(text.replace("/var/log/nginx", str(tmp_path)))
    result = nginx_test(tmp_path)
    assert result.returncode != 0
    assert "backup" in result.stderr
