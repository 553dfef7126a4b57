"""Requests through a balancer configured by the panel go where its method says.

Real hosts in network namespaces (testbed/netns.py: their own address, nginx and php-fpm, each
answering with its own name), a real balancer nginx reached over SSH (tests/loadbalancers/
conftest.py), the config put live by `load_balancer_apply`. Traffic is counted per backend
from the answers.
"""

from __future__ import annotations

import http.client
import os
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from loadbalancers.models import ApplyStatus
from loadbalancers.services import load_balancer_apply
from tenancy.audit import Actor
from testbed.netns import NetnsHost, Network
from testbed.web import free_port

pytestmark = [
    pytest.mark.web,
    pytest.mark.slow,
    pytest.mark.django_db,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]
SLOW_SECONDS = 5
SLOW_STARTED = "slow-started"


def _start_hosts(network: Network, base: Path, count: int, first: int = 1) -> list[NetnsHost]:
    """Hosts answering with their name: h1, h2, … counted from 1 whatever their address."""
    hosts = []
    try:
        for name, index in enumerate(range(first, first + count), 1):
            host = NetnsHost.start(network, index, base / f"h{index}", [], fpm_children=4)
            hosts.append(host)
            network.check_route(host.address)
            public = host.base / "srv" / "app" / "current" / "public"
            public.mkdir(parents=True)
            (public / "index.php").write_text(f"<?php echo 'h{name}';")
            # It marks its start: a test waits for that, not for a time (tests under load).
            (public / "slow.php").write_text(
                f"<?php touch(__DIR__ . '/{SLOW_STARTED}'); sleep({SLOW_SECONDS}); echo 'h{name}';"
            )
    except BaseException:
        for host in hosts:
            host.stop()
        raise
    return hosts


@pytest.fixture(scope="module")
def network():
    network = Network.create()
    yield network
    network.close()


@pytest.fixture(scope="module")
def hosts(network, tmp_path_factory):
    """Three web hosts, shared by the module (no test stops them)."""
    started = _start_hosts(network, tmp_path_factory.mktemp("netns"), 3)
    yield started
    for host in started:
        host.stop()


@pytest.fixture
def live(cast, balancer, add_web_server, make_lb_site, front_site, balancer_nginx):
    """`live(hosts, backends={index: {...}}, method=...)` → the port the balancer serves on."""

    def put_live(web_hosts: list[NetnsHost], method: str = "round_robin", **per_host) -> int:
        servers = [add_web_server(f"web-{i}", h.address) for i, h in enumerate(web_hosts, 1)]
        site = make_lb_site(servers)
        rows = [{"server": s.pk, **per_host.get(f"h{i}", {})} for i, s in enumerate(servers, 1)]
        port = free_port()
        front_site(site, rows, method=method, listen_port=port)
        result = load_balancer_apply(load_balancer=balancer, actor=Actor(user=cast.manager))
        assert result.apply_status == ApplyStatus.APPLIED, result.apply_output
        balancer_nginx.reloads_settled()
        return port

    return put_live


def _get(port: int, path: str = "/", source: str | None = None) -> str:
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=SLOW_SECONDS + 10,
        source_address=(source, 0) if source else None,
    )
    try:
        connection.request("GET", path, headers={"Host": "shop.example.test"})
        response = connection.getresponse()
        body = response.read().decode()
        assert response.status == 200, body
        return body
    finally:
        connection.close()


def _wait_for_any(paths: list[Path], timeout: float = SLOW_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not any(path.exists() for path in paths):
        assert time.monotonic() < deadline, f"none of {paths} appeared in {timeout} s"
        time.sleep(0.02)


def _count(port: int, requests: int) -> Counter[str]:
    return Counter(_get(port) for _ in range(requests))


def test_round_robin_spreads_evenly(hosts, live):
    port = live(hosts[:2])
    counts = _count(port, 200)
    assert abs(counts["h1"] - counts["h2"]) <= 10, counts


def test_weights_split_traffic_in_proportion(hosts, live):
    port = live(hosts[:2], h1={"weight": 3})
    counts = _count(port, 400)
    assert 280 <= counts["h1"] <= 320 and counts["h1"] + counts["h2"] == 400, counts


def test_ip_hash_keeps_each_client_on_one_backend(hosts, live):
    port = live(hosts[:3], method="ip_hash")
    # ip_hash keys on the first three octets of an IPv4 client: one client per 127.0.N.0/24.
    clients = [f"127.0.{n}.1" for n in range(1, 17)]
    chosen = {client: {_get(port, source=client) for _ in range(8)} for client in clients}
    assert all(len(backends) == 1 for backends in chosen.values()), chosen
    assert len(set().union(*chosen.values())) >= 2, chosen  # and clients are spread


def test_least_connections_prefers_the_idle_backend(hosts, live):
    port = live(hosts[:2], method="least_conn")
    markers = [h.base / "srv" / "app" / "current" / "public" / SLOW_STARTED for h in hosts[:2]]
    for marker in markers:
        marker.unlink(missing_ok=True)
    slow_answer: list[str] = []
    holder = threading.Thread(target=lambda: slow_answer.append(_get(port, "/slow.php")))
    holder.start()
    _wait_for_any(markers)  # the slow request is now held open on one backend
    fast = _count(port, 30)
    holder.join()
    busy = slow_answer[0]
    assert fast[busy] == 0 and sum(fast.values()) == 30, (busy, fast)


def test_a_drained_backend_gets_no_new_requests(hosts, live):
    port = live(hosts, h2={"drained": True})
    counts = _count(port, 90)
    assert counts["h2"] == 0 and counts["h1"] > 0 and counts["h3"] > 0, counts


def test_a_backup_serves_only_when_the_primaries_are_down(network, tmp_path, live):
    own = _start_hosts(network, tmp_path / "netns", 2, first=11)  # its own: one is stopped
    try:
        port = live(own, h2={"backup": True})
        assert _count(port, 30) == Counter({"h1": 30})
        own[0].stop_nginx()  # the only primary refuses connections now
        assert _count(port, 30) == Counter({"h2": 30})
    finally:
        for host in own:
            host.stop()
