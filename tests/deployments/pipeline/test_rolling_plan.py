"""The pure parts of a rolling deploy: batches, the drained/canary config, the canary count."""

from __future__ import annotations

from deployments.pipeline.rolling import (
    CANARY,
    DRAINED,
    BalancerLink,
    Rollout,
    batches,
    count_canary,
    render,
)
from loadbalancers import nginx
from tests.deployments.pipeline.contexts import TARGET


def _link(*hosts: str, **options) -> BalancerLink:
    site = nginx.BalancedSite(key="site1", server_name="_", listen="80",
                              method=nginx.ROUND_ROBIN,
                              backends=tuple(nginx.Backend(h, 80, weight=4) for h in hosts))
    return BalancerLink(
        label="lb", target=TARGET, config=nginx.BalancerConfig("lb1", "/var/log/lb.log", (site,)),
        site_key="site1", backends={f"web{i}": h for i, h in enumerate(hosts, 1)},
        conf_path="/etc/nginx/conf.d/lb1.conf", test_command=("nginx", "-t"),
        reload_command=("nginx", "-s", "reload"), **options)


def test_batches_never_hold_every_enabled_backend():
    link = _link("10.0.0.1", "10.0.0.2", "10.0.0.3", batch_size=5)
    assert batches(["web1", "web2", "web3"], link) == [["web1", "web2"], ["web3"]]
    assert batches(["web1", "web2", "web3"], _link("10.0.0.1", "10.0.0.2", "10.0.0.3")) == [
        ["web1"], ["web2"], ["web3"]]


def test_drained_and_canary_backends_are_written_down_and_light():
    link = _link("10.0.0.1", "10.0.0.2", canary_weight=1)
    text = render(link, {"web1": DRAINED, "web2": CANARY})
    assert "server 10.0.0.1:80 weight=4 max_fails=3 fail_timeout=10s down;" in text
    assert "server 10.0.0.2:80 weight=1 max_fails=3 fail_timeout=10s;" in text
    assert render(link, {}) == nginx.render(link.config)


def test_the_only_enabled_backend_is_never_drained():
    single = Rollout(_link("10.0.0.1"))
    assert not single.can_drain("web1")
    pair = Rollout(_link("10.0.0.1", "10.0.0.2"))
    assert pair.can_drain("web1")
    pair.overrides["web2"] = DRAINED
    assert not pair.can_drain("web1")


def test_the_canary_count_reads_each_upstream_of_a_retried_request():
    lines = [
        '1.2.3.4 [t] "GET / HTTP/1.1" 200 5 host=_ upstream=10.0.0.2:80 upstream_status=200 '
        'request_time=0.001 upstream_time=0.001',
        '1.2.3.4 [t] "GET / HTTP/1.1" 200 5 host=_ upstream=10.0.0.2:80, 10.0.0.1:80 '
        'upstream_status=502, 200 request_time=0.001 upstream_time=0.001, 0.001',
        '1.2.3.4 [t] "GET / HTTP/1.1" 500 5 host=_ upstream=10.0.0.2:80 upstream_status=500 '
        'request_time=0.001 upstream_time=0.001',
    ]
    count = count_canary(lines, "10.0.0.2:80")
    assert (count.requests, count.errors) == (3, 2)
