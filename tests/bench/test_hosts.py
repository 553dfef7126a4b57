"""Namespaced hosts: their own address behind our bridge, their own /srv (needs root)."""

from __future__ import annotations

import os
import urllib.request

import pytest

from bench.hosts import NetnsHost, Network

pytestmark = [
    pytest.mark.web,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]


@pytest.fixture
def network():
    network = Network.create()
    yield network
    network.close()


def test_it_refuses_an_address_that_would_leave_through_another_interface(network):
    with pytest.raises(RuntimeError, match="does not route through"):
        network.check_route("192.0.2.77")  # TEST-NET-1: `ip route get` sends nothing


def test_it_gives_every_host_its_own_srv_behind_the_same_path(network, tmp_path):
    hosts = [NetnsHost.start(network, i, tmp_path / f"h{i}", []) for i in (1, 2)]
    try:
        for host in hosts:
            public = host.base / "srv" / "app" / "current" / "public"
            public.mkdir(parents=True)
            (public / "index.php").write_text(f"<?php echo 'host {host.name}';")
        answers = [urllib.request.urlopen(f"http://{h.address}/", timeout=5).read() for h in hosts]
    finally:
        for host in hosts:
            host.stop()
    assert answers == [f"host {h.name}".encode() for h in hosts]
