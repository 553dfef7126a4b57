"""The health gate on real servers: sshd hosts with their own nginx + php-fpm.

A release is probed before any switch (PHP's built-in server on the server, users never
see it) and again after each server's switch (through that server's nginx); an unhealthy
answer leaves, or puts back, the old release everywhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from deployments.pipeline import run_deploy, run_rollback
from deployments.pipeline.context import HealthCheck
from testbed.web import SiteRoot, WebStack
from tests.deployments.pipeline.conftest import Site, run, without_build_tools
from tests.deployments.pipeline.private_sshd import PrivateSshd

pytestmark = [pytest.mark.ssh, pytest.mark.web, pytest.mark.slow]

HEALTHY = HealthCheck(path="/", expected_status=200, body_text="release=", timeout=5)
BROKEN_APP = '<?php\nhttp_response_code(500);\necho "Whoops: database unreachable\\n";\n'
# Fails only under PHP-FPM, on a server whose deploy path holds `fpm-broken`: it stands for
# what only the live stack has (the FPM pool's ini, extensions, environment), which the
# pre-switch probe through PHP's built-in server cannot see.
FPM_ONLY_FAILURE = """<?php
if (PHP_SAPI === 'fpm-fcgi' && file_exists(__DIR__ . '/../../../fpm-broken')) {
    http_response_code(503);
    echo "fpm pool broken\\n";
    exit;
}
echo "release=", basename(realpath(__DIR__ . '/..')), "\\n";
"""
SLOW_APP = '<?php\nsleep(20);\necho "release=late\\n";\n'


@dataclass
class Server:
    site_dir: Path  # the deploy path as seen from outside the server's namespace
    stack: WebStack

    def live(self) -> str:
        return (self.site_dir / "current").readlink().name

    def releases(self) -> set[str]:
        return {path.name for path in (self.site_dir / "releases").iterdir()}


@dataclass
class Cluster:
    site: Site
    servers: dict[str, Server]
    specs: tuple
    first_release: str = ""

    def context(self, **overrides):
        return self.site.context(servers=self.specs, preset="none", **overrides)

    def live(self) -> list[str]:
        return [server.live() for server in self.servers.values()]


@pytest.fixture
def cluster(tmp_path, site: Site, make_sshd_host, web_stack_factory) -> Cluster:
    """Two servers, each with its own filesystem and nginx + php-fpm, one healthy release live."""
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    site.deploy_path = mount_point / "site"
    specs, servers, daemons = [], {}, []
    for name in ("web1", "web2"):
        private = tmp_path / name
        private.mkdir()
        host = make_sshd_host()
        daemons.append(PrivateSshd.start(host, private, mount_point))
        stack = web_stack_factory([SiteRoot(private / "site")])
        specs.append(replace(site.server(host, name), web_port=stack.http_port))
        servers[name] = Server(private / "site", stack)
    without_build_tools(site.repo)
    cluster = Cluster(site, servers, tuple(specs))
    first = cluster.context(health_check=HEALTHY)
    assert run(run_deploy, first)[0].status == "succeeded"
    cluster.first_release = first.release
    yield cluster
    for daemon in daemons:
        daemon.stop()


def test_it_never_switches_a_release_whose_probe_fails(cluster):
    cluster.site.repo.commit({"public/index.php": BROKEN_APP}, "Break the app")
    ctx = cluster.context(health_check=HEALTHY)

    result, sink = run(run_deploy, ctx)

    assert (result.status, result.failed_step) == ("failed", "health_check")
    assert "HTTP 500" in result.error and "Whoops: database unreachable" in result.error
    assert cluster.live() == [cluster.first_release] * 2
    assert not any(ctx.release in server.releases() for server in cluster.servers.values())
    assert sink.status("activate", "web1") is None


def test_it_rolls_every_server_back_when_the_live_probe_fails(cluster):
    cluster.site.repo.commit({"public/index.php": FPM_ONLY_FAILURE}, "Works only outside FPM")
    (cluster.servers["web2"].site_dir / "fpm-broken").touch()
    ctx = cluster.context(health_check=HEALTHY)

    result, sink = run(run_deploy, ctx)

    assert (result.status, result.failed_step) == ("failed", "health_check_live")
    assert "web2: health check failed after switch; rolled back: HTTP 503" in result.error
    assert sink.status("health_check_live", "web1") == "succeeded"
    assert sink.status("switch_back", "web1") == sink.status("switch_back", "web2") == "succeeded"
    assert cluster.live() == [cluster.first_release] * 2


def test_it_switches_a_rollback_back_when_its_target_is_unhealthy(cluster):
    web1 = cluster.servers["web1"]
    (web1.site_dir / "fpm-broken").touch()
    cluster.site.repo.commit({"public/index.php": FPM_ONLY_FAILURE}, "Works only outside FPM")
    ungated = cluster.context()  # no health check: this release goes live although broken
    assert run(run_deploy, ungated)[0].status == "succeeded"
    (web1.site_dir / "fpm-broken").unlink()
    cluster.site.repo.commit({"public/index.php": BROKEN_APP.replace("500", "200")}, "Fixed")
    fixed = cluster.context(health_check=replace(HEALTHY, body_text="Whoops"))
    assert run(run_deploy, fixed)[0].status == "succeeded"
    (web1.site_dir / "fpm-broken").touch()

    back = cluster.context(kind="rollback", release=ungated.release, health_check=HEALTHY)
    result, _sink = run(run_rollback, back)

    assert (result.status, result.failed_step) == ("failed", "health_check_live")
    assert cluster.live() == [fixed.release] * 2


def test_it_passes_a_healthy_release_through_both_probes(cluster):
    ctx = cluster.context(health_check=HEALTHY)

    result, sink = run(run_deploy, ctx)

    assert result.status == "succeeded", result.error
    assert {sink.status(step, name) for step in ("health_check", "health_check_live")
            for name in ("web1", "web2")} == {"succeeded"}
    assert "health check (live) on web2: HTTP 200 in " in sink.text()
    assert cluster.live() == [ctx.release] * 2


def test_it_skips_both_probes_without_a_health_check(cluster):
    cluster.site.repo.commit({"public/index.php": BROKEN_APP}, "Broken, but nobody checks")
    ctx = cluster.context()

    result, sink = run(run_deploy, ctx)

    assert result.status == "succeeded", result.error
    assert {sink.status("health_check"), sink.status("health_check_live")} == {"skipped"}
    assert cluster.live() == [ctx.release] * 2


def test_it_fails_when_the_body_lacks_the_expected_text(cluster):
    ctx = cluster.context(health_check=replace(HEALTHY, body_text="all systems go"))

    result, _sink = run(run_deploy, ctx)

    assert (result.status, result.failed_step) == ("failed", "health_check")
    assert "the body does not contain 'all systems go'" in result.error
    assert cluster.live() == [cluster.first_release] * 2


def test_it_fails_a_probe_that_outlasts_its_timeout_within_the_bound(cluster):
    cluster.site.repo.commit({"public/index.php": SLOW_APP}, "Hangs for 20 s")
    ctx = cluster.context(health_check=replace(HEALTHY, timeout=1))

    started = time.monotonic()
    result, _sink = run(run_deploy, ctx)

    assert (result.status, result.failed_step) == ("failed", "health_check")
    assert "no answer in" in result.error and "timed out" in result.error
    assert time.monotonic() - started < 15
