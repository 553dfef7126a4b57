"""Fixtures for load-balancer tests: a balancer reached over SSH like a real server.

The balancer is an sshd on loopback that authorizes the cast organization's key, plus its own
nginx (testbed/balancer.py) whose include directory the panel writes into: the real apply path
(SFTP upload, apply.sh, `nginx -t`, reload) runs end to end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from loadbalancers.models import LoadBalancer
from loadbalancers.services import balanced_site_set, load_balancer_create
from servers.models import OrganizationKey, Server
from sites.models import Site
from sites.services import site_create
from tenancy.audit import Actor
from testbed.balancer import BalancerNginx
from testbed.sshd import SshdHost

SITE = {
    "domain": "shop.example.test",
    "repository_url": "git@github.com:acme/shop.git",
    "branch": "main",
    "deploy_path": "/srv/app",
}


@pytest.fixture
def org_key(cast) -> OrganizationKey:
    return OrganizationKey.objects.get(organization=cast.org, superseded_at__isnull=True)


@pytest.fixture
def balancer_sshd(make_sshd_host, org_key) -> SshdHost:
    return make_sshd_host(authorized_keys=[org_key.public_key])


@pytest.fixture
def balancer_nginx(tmp_path: Path) -> Iterator[BalancerNginx]:
    balancer = BalancerNginx.start(tmp_path / "balancer")
    yield balancer
    balancer.stop()


@pytest.fixture
def lb_server(cast, balancer_sshd) -> Server:
    """The balancer's server row, its host key pinned (as a successful check leaves it)."""
    return Server.objects.create(
        organization=cast.org, name="lb-1", host=balancer_sshd.host, port=balancer_sshd.port,
        user=balancer_sshd.user, host_key=balancer_sshd.host_key_line, status="connected",
    )


@pytest.fixture
def add_web_server(cast) -> Callable[..., Server]:
    def add(name: str, host: str = "127.0.0.1") -> Server:
        return Server.objects.create(organization=cast.org, name=name, host=host)

    return add


@pytest.fixture
def make_lb_site(cast) -> Callable[..., Site]:
    def make(servers: list[Server], name: str = "shop") -> Site:
        return site_create(organization=cast.org, actor=Actor(user=cast.owner), servers=servers,
                           name=name, **SITE)

    return make


@pytest.fixture
def balancer(cast, lb_server, balancer_nginx) -> LoadBalancer:
    """A LoadBalancer on `lb_server` writing into `balancer_nginx` (no sites yet)."""
    return load_balancer_create(
        org=cast.org, actor=Actor(user=cast.manager), server=lb_server, name="front",
        conf_dir=str(balancer_nginx.conf_dir), log_dir=str(balancer_nginx.log_dir),
        test_command=balancer_nginx.test_command, reload_command=balancer_nginx.reload_command,
    )


@pytest.fixture
def front_site(cast, balancer) -> Callable[..., object]:
    """`front_site(site, backends, method=..., listen_port=...)` as the manager."""

    def put(site: Site, backends: list[dict], **options):
        return balanced_site_set(load_balancer=balancer, actor=Actor(user=cast.manager),
                                 site=site, backends=backends, **options)

    return put
