"""Rolling deploys through a real nginx load balancer to real hosts in network namespaces.

Two web hosts (testbed/netns.py: sshd, nginx, php-fpm each, same /srv paths), a git host, and a
balancer nginx (testbed/balancer.py) reached over SSH: the rollout drains, switches, probes and
enables each host by putting the generated config live (loadbalancers/apply.py). A steady
request loop through the balancer checks every body and records which host answered when.
"""

from __future__ import annotations

import asyncio
import dataclasses
import http.client
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.fleet import Fleet, build
from deployments.pipeline import run_deploy, run_rollback
from deployments.pipeline.context import DeployContext, HealthCheck
from deployments.pipeline.rolling import BalancerLink, render
from loadbalancers import nginx
from testbed.balancer import BalancerNginx
from testbed.web import free_port
from tests.fixtures.sshd import target_for

pytestmark = [
    pytest.mark.ssh,
    pytest.mark.web,
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]

# Answers which release and which host served it; 503 under PHP-FPM on a host whose deploy
# path holds `fpm-broken` (what only the live stack has: the pre-switch probe passes), 500 in
# a release holding FAIL500 (the canary's broken release).
APP = """<?php
$root = realpath(__DIR__ . '/..');
if (PHP_SAPI === 'fpm-fcgi' && file_exists($root . '/../../fpm-broken')) {
    http_response_code(503);
    echo "fpm pool broken\\n";
    exit;
}
if (file_exists($root . '/FAIL500')) {
    http_response_code(500);
    echo "boom\\n";
    exit;
}
// The backend's own request log (outside releases): when each request arrived, from where.
file_put_contents($root . '/../../requests.log',
    sprintf("%.6f %s\\n", microtime(true), $_SERVER['REMOTE_ADDR']), FILE_APPEND | LOCK_EX);
usleep(2000);
echo "release=", basename($root), " host=", $_SERVER['SERVER_ADDR'], "\\n";
"""
# Laravel's artisan, reduced to logging what it was asked (the log lives outside releases).
ARTISAN = """<?php
file_put_contents(__DIR__ . '/../../artisan.log', implode(' ', array_slice($argv, 1)) . "\\n",
    FILE_APPEND);
"""
BODY = re.compile(r"release=(\d{14}) host=([0-9.]+)\n")
HEALTHY = HealthCheck(path="/", expected_status=200, body_text="release=", timeout=5)


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    fleet = build(2)
    fleet.repo.commit({"public/index.php": APP, "artisan": ARTISAN}, "Rolling test app")
    yield fleet
    fleet.close()


@dataclasses.dataclass
class Rig:
    fleet: Fleet
    nginx: BalancerNginx
    link: BalancerLink
    port: int
    sshd: object = None  # the balancer's sshd (testbed/sshd.py SshdHost)

    @property
    def hosts(self):
        return self.fleet.hosts

    def context(self, **overrides) -> DeployContext:
        values = {"balancer": self.link, "preset": "laravel", "run_migrations": True,
                  "health_check": HEALTHY, **overrides}
        return self._probed(self.fleet.context(self.hosts), **values)

    def rollback_context(self, release: str) -> DeployContext:
        ctx = self.fleet.context(self.hosts, kind="rollback", release=release)
        return self._probed(ctx, balancer=self.link, health_check=HEALTHY)

    def _probed(self, ctx: DeployContext, **values) -> DeployContext:
        """The live probe asks each host's nginx on the host's own address."""
        servers = tuple(dataclasses.replace(spec, web_address=host.address)
                        for spec, host in zip(ctx.servers, self.hosts, strict=True))
        return dataclasses.replace(ctx, servers=servers, **values)

    def site_dir(self, index: int) -> Path:
        return self.hosts[index].base / "srv" / "app"

    def live(self) -> list[str]:
        return [(self.site_dir(i) / "current").readlink().name for i in range(len(self.hosts))]

    def live_config(self) -> str:
        return (self.nginx.conf_dir / "deploynix_lb9.conf").read_text()


@pytest.fixture
def rig(fleet, tmp_path, make_sshd_host, ssh_client_key) -> Iterator[Rig]:
    """The balancer (nginx over SSH) in front of both hosts, the generated config live, and a
    first release deployed everywhere."""
    balancer = BalancerNginx.start(tmp_path / "balancer")
    sshd = make_sshd_host()
    port = free_port()
    site = nginx.BalancedSite(
        key="site1", server_name="_", listen=f"127.0.0.1:{port}", method=nginx.ROUND_ROBIN,
        backends=tuple(nginx.Backend(host.address, 80) for host in fleet.hosts),
    )
    config = nginx.BalancerConfig(
        "deploynix_lb9", str(balancer.log_dir / "deploynix_lb9.access.log"), (site,))
    link = BalancerLink(
        label="lb-1", target=target_for(sshd, ssh_client_key[0]), config=config,
        site_key="site1", backends={host.name: host.address for host in fleet.hosts},
        conf_path=str(balancer.conf_dir / "deploynix_lb9.conf"),
        test_command=tuple(balancer.test_command), reload_command=tuple(balancer.reload_command),
        drain_seconds=0.5,
    )
    rig = Rig(fleet, balancer, link, port, sshd)
    for index in range(len(fleet.hosts)):
        (rig.site_dir(index) / "fpm-broken").unlink(missing_ok=True)
    result, _ = deploy(rig.context())
    assert result.status == "succeeded", result.error
    yield rig
    balancer.stop()


class Sink:
    """Records steps with monotonic times (the pipeline's Sink protocol)."""

    def __init__(self, on_step=None) -> None:
        self.steps: list[tuple[str, str, str, float]] = []
        self.wall: dict[tuple[str, str, str], float] = {}  # the last time.time() of each
        self.lines: list[str] = []
        self.on_step = on_step

    async def step_started(self, step, server):
        self.steps.append((step, server, "running", time.monotonic()))
        self.wall[(step, server, "running")] = time.time()

    async def step_finished(self, step, server, status, exit_code, error=""):
        self.steps.append((step, server, status, time.monotonic()))
        self.wall[(step, server, status)] = time.time()
        if self.on_step:
            self.on_step(step, server, status)

    async def line(self, server, stream, text, ts):
        self.lines.append(f"{server}: {text}")

    async def commit_resolved(self, sha, message, author, mirror=None):
        pass

    async def lease_lost(self):
        return ""

    async def cancel_requested(self) -> bool:
        return False

    def status(self, step: str, server: str) -> str | None:
        found = [s for name, srv, s, _ in self.steps if (name, srv) == (step, server)]
        return found[-1] if found else None

    def at(self, step: str, server: str, status: str) -> float:
        return next(t for name, srv, s, t in self.steps if (name, srv, s) == (step, server, status))


def deploy(ctx: DeployContext, sink: Sink | None = None, cancel=None, runner=run_deploy):
    sink = sink or Sink()
    return asyncio.run(runner(ctx, sink, cancel)), sink


class Load:
    """A steady loop of `Connection: close` requests through the balancer, each recorded as
    (sent, answered, status, body)."""

    def __init__(self, port: int, threads: int = 2) -> None:
        self.port, self.samples = port, []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop) for _ in range(threads)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            sent = time.monotonic()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                connection.request("GET", "/", headers={"Connection": "close"})
                response = connection.getresponse()
                status, body = response.status, response.read().decode(errors="replace")
                connection.close()
            except (OSError, http.client.HTTPException) as exc:
                status, body = 0, repr(exc)
            self.samples.append((sent, time.monotonic(), status, body))
            time.sleep(0.005)

    def failures(self) -> list[tuple[int, str]]:
        return [(s, b) for _, _, s, b in self.samples if s != 200 or not BODY.fullmatch(b)]

    def answered_by(self, address: str, start: float, end: float) -> int:
        """Requests sent after `start` and answered before `end` by the host at `address`."""
        return sum(1 for sent, done, status, body in self.samples
                   if sent > start and done < end and (m := BODY.fullmatch(body))
                   and m[2] == address)


@pytest.fixture
def rolled(rig):
    """A rolling deploy under steady load; what the load saw and what the pipeline reported."""
    for index in range(len(rig.hosts)):
        (rig.site_dir(index) / "artisan.log").unlink(missing_ok=True)
        (rig.site_dir(index) / "requests.log").unlink(missing_ok=True)
    with Load(rig.port) as load:
        time.sleep(0.5)
        result, sink = deploy(rig.context())
        time.sleep(0.5)
    assert result.status == "succeeded", result.error
    return rig, load, sink


def test_a_drained_server_gets_no_new_requests_while_it_switches(rolled):
    rig, load, sink = rolled
    for host in rig.hosts:
        drained = sink.at("drain", host.name, "succeeded")
        enabling = sink.at("enable", host.name, "running")
        assert sink.at("activate", host.name, "running") > drained
        assert load.answered_by(host.address, drained, enabling) == 0
        # ... while the other host kept serving through that window.
        other = next(h for h in rig.hosts if h is not host)
        assert load.answered_by(other.address, drained, enabling) > 0


def test_a_drained_servers_own_request_log_shows_no_balancer_request_while_it_switches(rolled):
    rig, _load, sink = rolled
    for index, host in enumerate(rig.hosts):
        drained = sink.wall[("drain", host.name, "succeeded")]
        enabling = sink.wall[("enable", host.name, "running")]
        arrivals = [line.split() for line in
                    (rig.site_dir(index) / "requests.log").read_text().splitlines()]
        # The live probe asks the host from the host itself; everything else came through
        # the balancer.
        proxied = [float(at) for at, source in arrivals if source != host.address]
        assert [at for at in proxied if drained <= at <= enabling] == []
        assert any(at < drained for at in proxied) and any(at > enabling for at in proxied)


def test_no_request_fails_during_a_rolling_deploy(rolled):
    _rig, load, _sink = rolled
    assert len(load.samples) > 50
    assert load.failures() == []


def test_migrations_run_on_exactly_one_server(rolled):
    rig, _load, sink = rolled
    migrations = [
        line for index in range(len(rig.hosts))
        for line in _lines(rig.site_dir(index) / "artisan.log") if line == "migrate --force"
    ]
    assert len(migrations) == 1
    assert _lines(rig.site_dir(0) / "artisan.log")[0] == "migrate --force"
    assert sink.status("migrate", rig.hosts[0].name) == "succeeded"
    assert sink.status("migrate", rig.hosts[1].name) == "skipped"
    assert " down;" not in rig.live_config()


def test_a_release_failing_after_the_switch_is_rolled_back_everywhere_all_enabled(rig):
    before = rig.live()
    (rig.site_dir(1) / "fpm-broken").touch()  # the second host fails only once live
    result, sink = deploy(rig.context())

    assert (result.status, result.failed_step) == ("failed", "health_check_live")
    assert sink.status("enable", rig.hosts[0].name) == "succeeded"
    assert sink.status("switch_back", rig.hosts[0].name) == "succeeded"
    assert sink.status("restore_balancer", "lb-1") == "succeeded"
    assert rig.live() == before
    assert rig.live_config() == render(rig.link, {})
    assert " down;" not in rig.live_config()


def test_cancel_mid_rollout_restores_every_server_and_enables_drained_ones(rig):
    before = rig.live()
    cancel = asyncio.Event()
    sink = Sink()
    link = dataclasses.replace(rig.link, drain_seconds=3.0)

    async def go():
        watch = asyncio.create_task(_cancel_when_drained(sink, rig.hosts[1].name, cancel))
        try:
            return await run_deploy(rig.context(balancer=link), sink, cancel)
        finally:
            watch.cancel()

    result = asyncio.run(go())

    assert result.status == "cancelled"
    assert sink.status("enable", rig.hosts[0].name) == "succeeded"  # the first was live
    assert sink.status("switch_back", rig.hosts[0].name) == "succeeded"
    assert sink.status("restore_balancer", "lb-1") == "succeeded"
    assert rig.live() == before
    assert rig.live_config() == render(rig.link, {})


async def _cancel_when_drained(sink: Sink, server: str, cancel: asyncio.Event) -> None:
    """Cancel while `server` sits drained (during its drain wait)."""
    while not any(step == "drain" and srv == server for step, srv, _, _ in sink.steps):
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    cancel.set()


def test_a_lost_balancer_connection_still_ends_with_every_server_back_and_enabled(rig):
    """The balancer's sshd dies (its sessions with it) while web1 is drained and comes back
    2 s later: enabling web1 fails, the deploy is undone, and the restore outlasts the outage."""
    before = rig.live()

    def on_step(step, server, status):
        if (step, server, status) == ("drain", rig.hosts[0].name, "succeeded"):
            rig.sshd.stop()
            threading.Timer(2.0, rig.sshd._launch, kwargs={"fixed_port": True}).start()

    result, sink = deploy(rig.context(), Sink(on_step=on_step))

    assert (result.status, result.failed_step) == ("failed", "enable")
    assert sink.status("restore_balancer", "lb-1") == "succeeded"
    assert rig.live() == before
    assert rig.live_config() == render(rig.link, {})


def test_a_canary_answering_5xx_rolls_everything_back(rig):
    before = rig.live()
    rig.fleet.repo.commit({"FAIL500": "yes\n"}, "A release that answers 500")
    link = dataclasses.replace(rig.link, canary=True, canary_weight=5, canary_seconds=3.0,
                               canary_max_error_rate=0.1, canary_min_requests=3)
    try:
        with Load(rig.port):
            result, sink = deploy(rig.context(balancer=link, health_check=None))
    finally:
        rig.fleet.repo.commit({"FAIL500": None}, "Healthy again")

    assert (result.status, result.failed_step) == ("failed", "canary")
    assert "answered 5xx" in result.error
    assert sink.status("activate", rig.hosts[1].name) is None  # never reached the second host
    assert rig.live() == before
    assert rig.live_config() == render(rig.link, {})


def test_a_rollback_rolls_through_the_balancer(rig):
    first = rig.live()[0]
    result, _ = deploy(rig.context())
    assert result.status == "succeeded"

    with Load(rig.port) as load:
        back, sink = deploy(rig.rollback_context(first), runner=run_rollback)

    assert back.status == "succeeded", back.error
    assert rig.live() == [first, first]
    for host in rig.hosts:
        assert sink.status("drain", host.name) == sink.status("enable", host.name) == "succeeded"
    assert load.failures() == []


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []
