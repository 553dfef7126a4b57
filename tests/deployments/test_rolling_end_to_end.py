"""End to end: a real Celery worker rolls a site through its load balancer, from the rows.

Two web hosts in network namespaces (testbed/netns.py: sshd, nginx, php-fpm each, the same
/srv paths), a git host, and a balancer nginx reached over SSH (testbed/balancer.py). The site,
its servers and the balancer are database rows made through the services; the worker builds
the context (deployments/context_builder.py) and the rollout drains, switches, probes and
enables each host. What the issue asks of the rows: each server's steps, its phase, the
deployment's status and error; of the servers: the live release and the balancer's file.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.fleet import Fleet, build
from deployments.models import Deployment, Status, Trigger
from deployments.phases import server_phases
from deployments.pipeline.steps import ROLLED_BACK
from deployments.services import deployment_request, rollback_request
from loadbalancers.selectors import rendered_config
from loadbalancers.services import balanced_site_set, load_balancer_apply, load_balancer_create
from servers.models import OrganizationKey, Server
from sites.services import site_create
from tenancy.audit import Actor
from testbed.balancer import BalancerNginx
from testbed.gitrepo import template_dir
from testbed.web import free_port
from tests.deployments.workers import Worker, purge_queues
from tests.fixtures.stage import finished

pytestmark = [
    pytest.mark.ssh, pytest.mark.web, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]
DEMO = (template_dir("demo") / "public" / "index.php").read_text()
# Healthy for the pre-switch probe (PHP's built-in server), a 503 under PHP-FPM only.
FPM_ONLY_FAILURE = DEMO.replace(
    "<?php\n", "<?php\nif (PHP_SAPI === 'fpm-fcgi') {\n    http_response_code(503);\n"
    '    echo "broken under php-fpm\\n";\n    exit;\n}\n', 1)


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    fleet = build(2)
    yield fleet
    fleet.close()


@pytest.fixture
def worker(transactional_db, tmp_path: Path) -> Iterator[Worker]:
    purge_queues()
    started = Worker.start("w1", tmp_path)
    yield started
    started.stop()


@pytest.fixture
def balancer_nginx(tmp_path: Path) -> Iterator[BalancerNginx]:
    balancer = BalancerNginx.start(tmp_path / "balancer")
    yield balancer
    balancer.stop()


def _authorize(host, public_key: str) -> None:
    with (host.base / "authorized_keys").open("a") as keys:
        keys.write(public_key.strip() + "\n")


@pytest.fixture
def fleet_site(cast, fleet):
    """A site on both hosts (health check on), deployable by a worker; nothing deployed yet."""
    fleet.repo.commit({"public/index.php": DEMO}, "The demo app")
    key = OrganizationKey.objects.get(organization=cast.org, superseded_at__isnull=True)
    servers = []
    for host in fleet.hosts:
        # A fresh deploy path: the lock of the previous test's deployments (its epochs) goes.
        shutil.rmtree(host.base / "srv" / "app", ignore_errors=True)
        _authorize(host, key.public_key)
        servers.append(Server.objects.create(
            organization=cast.org, name=host.name, host=host.address, port=22, user="root",
            host_key=host.host_key_line, deploy_roots=["/srv"]))
    git = fleet.git
    site = site_create(
        organization=cast.org, actor=Actor(user=cast.owner), servers=servers, name="shop",
        repository_url=fleet.repo.ssh_url(git.user, git.host, git.port), branch="main",
        repository_host_keys=f"{git.host} {git.host_key_line}", deploy_path="/srv/app",
        preset="php", reload_method="php-fpm", reload_command=list(fleet.hosts[0].reload_command),
        health_check_enabled=True, health_check_body="release")
    _authorize(git, site.deploy_key_public)
    return site


@pytest.fixture
def lb_server(cast, make_sshd_host) -> Server:
    """The balancer's server row: an sshd on loopback trusting the organization's key."""
    key = OrganizationKey.objects.get(organization=cast.org, superseded_at__isnull=True)
    sshd = make_sshd_host(authorized_keys=[key.public_key])
    return Server.objects.create(
        organization=cast.org, name="lb-1", host=sshd.host, port=sshd.port, user=sshd.user,
        host_key=sshd.host_key_line, status="connected")


@pytest.fixture
def rolled_site(cast, fleet_site, lb_server, balancer_nginx, worker):
    """`fleet_site` behind an applied round-robin balancer on `lb_server`."""
    manager = Actor(user=cast.manager)
    nginx_ = balancer_nginx
    lb = load_balancer_create(
        org=cast.org, actor=manager, server=lb_server, name="front",
        conf_dir=str(nginx_.conf_dir), log_dir=str(nginx_.log_dir),
        test_command=nginx_.test_command, reload_command=nginx_.reload_command)
    balanced_site_set(load_balancer=lb, actor=manager, site=fleet_site, listen_port=free_port(),
                      backends=[{"server": s.pk} for s in fleet_site.servers.all()],
                      rolling={"drain_seconds": 0})
    assert load_balancer_apply(load_balancer=lb, actor=manager).apply_status == "applied"
    return fleet_site, lb


def _deploy(site) -> Deployment:
    # Forced: the second deploy of the same commit must roll again, not end "already live".
    [done] = finished(deployment_request(site=site, actor=Actor.system(), trigger=Trigger.API,
                                         force=True))
    return done


def _live(fleet: Fleet) -> set[str]:
    return {(host.base / "srv" / "app" / "current").readlink().name for host in fleet.hosts}


def _phases(deployment: Deployment, fleet: Fleet) -> dict[str, str]:
    names = [host.name for host in fleet.hosts]
    return {p.server: p.phase for p in server_phases(list(deployment.steps.all()), names)}


def _steps(deployment: Deployment, name: str) -> dict[str, str]:
    return dict(deployment.steps.filter(name=name).values_list("server", "status"))


def test_the_worker_rolls_a_deploy_and_a_rollback_through_the_balancer(cast, rolled_site,
                                                                      fleet):
    site, lb = rolled_site
    first, second = _deploy(site), _deploy(site)
    assert (first.status, second.status) == (Status.SUCCEEDED, Status.SUCCEEDED), second.error
    every = {host.name: "succeeded" for host in fleet.hosts}
    assert (_steps(second, "drain"), _steps(second, "enable")) == (every, every)
    assert _phases(second, fleet) == dict.fromkeys(every, "live")

    back = rollback_request(site=site, release=first.release, actor=Actor(user=cast.developer),
                            trigger=Trigger.MANUAL)
    [back] = finished(back)

    assert back.status == Status.SUCCEEDED, back.error
    assert (_steps(back, "drain"), _steps(back, "enable")) == (every, every)
    assert _live(fleet) == {first.release}
    assert Path(lb.conf_path).read_text() == rendered_config(lb)  # nothing left `down`


def test_a_release_failing_after_the_switch_is_rolled_back_by_the_worker(rolled_site, fleet):
    site, lb = rolled_site
    good = _deploy(site)
    fleet.repo.commit({"public/index.php": FPM_ONLY_FAILURE}, "Works only outside FPM")

    broken = _deploy(site)

    assert broken.status == Status.FAILED and ROLLED_BACK in broken.error, broken.error
    assert _live(fleet) == {good.release}
    first_switched = min(host.name for host in fleet.hosts)
    assert _phases(broken, fleet)[first_switched] == "rolled back"
    assert Path(lb.conf_path).read_text() == rendered_config(lb)
