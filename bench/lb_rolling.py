"""Rolling deploys through the balancer the panel generates: the scenario `lb-rolling`.

The balancer is a real nginx (testbed/balancer.py) whose config is loadbalancers/nginx.py's
output, reached over SSH (an sshd on loopback) exactly as a deployment reaches it: every deploy
and rollback drains, switches, probes and enables each host through it
(deployments/pipeline/rolling.py) while the load generator checks every response.

Per method (round robin, least connections, IP hash): deploy/rollback pairs under load, one
release broken at runtime (the pre-switch health check must refuse it: never switched) and one
broken only under PHP-FPM (switched on a drained host, failing its live probe: rolled back
everywhere). Then the time of one rolling deploy against host count, without load.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from bench.fleet import Fleet
from bench.hosts import NetnsHost
from bench.scenarios import ZeroDowntime, under_load
from bench.timing import Run, timed
from deployments.pipeline.context import DeployContext, HealthCheck
from deployments.pipeline.rolling import BalancerLink
from loadbalancers import nginx
from servers.ssh import SSHTarget
from testbed.balancer import BalancerNginx
from testbed.gitrepo import template_dir
from testbed.sshd import SshdHost
from testbed.web import free_port

# Short enough for many pairs, long enough to cover nginx's reload.
DRAIN_SECONDS = 0.5
METHODS = (nginx.ROUND_ROBIN, nginx.LEAST_CONN, nginx.IP_HASH)
# Eight client addresses (distinct first three octets: IP hash keys on those) for 16
# connections: without them every request would come from 127.0.0.1, one IP-hash client.
SOURCES = tuple(f"127.0.{n}.1" for n in range(1, 9))
_DEMO = (template_dir("demo") / "public" / "index.php").read_text()
# A 500 on every page, under any PHP: the pre-switch probe (PHP's built-in server) sees it.
BROKEN_AT_RUNTIME = _DEMO.replace(
    "<?php\n",
    '<?php\nhttp_response_code(500);\necho "Whoops: database unreachable\\n";\nexit;\n',
    1,
)
# Healthy under the pre-switch probe, a 503 only under PHP-FPM: seen only after the switch.
BROKEN_AFTER_SWITCH = _DEMO.replace(
    "<?php\n",
    "<?php\nif (PHP_SAPI === 'fpm-fcgi') {\n    http_response_code(503);\n"
    '    echo "broken under php-fpm\\n";\n    exit;\n}\n',
    1,
)
_UPSTREAM = re.compile(rb" upstream=(.*?) upstream_status=")


@dataclass
class Gate:
    """One deploy of a broken release under load, and whether it ended as it must."""

    kind: str
    status: str
    error: str
    switched: bool  # the pipeline switched at least one host to it
    live_before: str
    live_after: dict[str, str]  # host -> release `current` points at afterwards
    ok: bool


@dataclass
class MethodRun:
    method: str
    result: ZeroDowntime
    per_backend: Counter = field(default_factory=Counter)  # answering upstream -> requests
    retried: int = 0  # requests the balancer sent to a second backend
    gates: list[Gate] = field(default_factory=list)


@dataclass
class LbRolling:
    drain_seconds: float
    methods: list[MethodRun] = field(default_factory=list)
    host_counts: dict[int, list[Run]] = field(default_factory=dict)
    host_rollbacks: dict[int, list[Run]] = field(default_factory=dict)
    count_drain_seconds: float = 2.0

    @property
    def requests(self) -> int:
        return sum(run.result.stats.total for run in self.methods)


@contextlib.contextmanager
def panel_balancer(
    fleet: Fleet, hosts: list[NetnsHost], *, method: str = nginx.ROUND_ROBIN,
    drain_seconds: float = DRAIN_SECONDS,
) -> Iterator[tuple[BalancerLink, int]]:
    """A balancer nginx + its sshd in front of `hosts`; the link a deployment would get."""
    base = fleet.base / f"panel-lb-{method}-{len(hosts)}"
    balancer = BalancerNginx.start(base / "nginx")
    public = asyncssh.import_private_key(fleet.client_key).export_public_key().decode()
    sshd = SshdHost.start(base / "sshd", authorized_keys=[public])
    try:
        port = free_port()
        site = nginx.BalancedSite(
            key="site1", server_name="_", listen=f"127.0.0.1:{port}", method=method,
            backends=tuple(nginx.Backend(host.address, 80) for host in hosts),
        )
        name = "deploynix_lb1"
        config = nginx.BalancerConfig(name, str(balancer.log_dir / f"{name}.access.log"), (site,))
        target = SSHTarget(host=sshd.host, port=sshd.port, username=sshd.user,
                           client_keys=(fleet.client_key,), host_key=sshd.host_key_line)
        yield BalancerLink(
            label="lb", target=target, config=config, site_key="site1",
            backends={host.name: host.address for host in hosts},
            conf_path=str(balancer.conf_dir / f"{name}.conf"),
            test_command=tuple(balancer.test_command),
            reload_command=tuple(balancer.reload_command), drain_seconds=drain_seconds,
        ), port
    finally:
        sshd.stop()
        balancer.stop()


def _context(fleet: Fleet, hosts: list[NetnsHost], link: BalancerLink, **kwargs) -> DeployContext:
    ctx = fleet.context(hosts, **kwargs)
    servers = tuple(dataclasses.replace(spec, web_address=host.address)
                    for spec, host in zip(ctx.servers, hosts, strict=True))
    return dataclasses.replace(ctx, servers=servers, balancer=link,
                               health_check=HealthCheck(path="/", body_text="release"))


def live_releases(hosts: list[NetnsHost]) -> dict[str, str]:
    """The release each host's /srv/app/current points at, read on the host's disk."""
    return {host.name: (host.base / "srv" / "app" / "current").readlink().name for host in hosts}


async def broken_deploys(fleet: Fleet, hosts: list[NetnsHost], link: BalancerLink,
                         live: str) -> tuple[list[Gate], list[str]]:
    """Deploy a release broken at runtime, then one broken only after the switch; then the
    demo app again. Both must fail, and `live` must be served everywhere afterwards."""
    gates = []
    for kind, source, must_switch in (
        ("broken at runtime (500 on every page)", BROKEN_AT_RUNTIME, False),
        ("broken only under PHP-FPM (after the switch)", BROKEN_AFTER_SWITCH, True),
    ):
        fleet.repo.commit({"public/index.php": source}, f"bench: {kind}")
        run = await timed(_context(fleet, hosts, link))
        after = live_releases(hosts)
        switched = "activate" in run.sink.spans
        ok = (run.status == "failed" and switched == must_switch
              and set(after.values()) == {live})
        gates.append(Gate(kind, run.status, run.error, switched, live, after, ok))
    fleet.repo.commit({"public/index.php": _DEMO}, "bench: the demo app again")
    failures = [f"{g.kind}: {g.status}, switched={g.switched}, live={g.live_after}: {g.error}"
                for g in gates if not g.ok]
    return gates, failures


async def one_method(
    fleet: Fleet, hosts: list[NetnsHost], *, method: str, pairs: int, min_requests: int
) -> MethodRun:
    """Deploy/rollback pairs and the two broken releases through a `method` balancer."""
    with panel_balancer(fleet, hosts, method=method) as (link, port):
        gates: list[Gate] = []

        async def deploy_one() -> tuple[str, Run]:
            ctx = _context(fleet, hosts, link)
            return ctx.release, await timed(ctx)

        async def rollback_to(release: str) -> Run:
            return await timed(_context(fleet, hosts, link, kind="rollback", release=release))

        async def interlude(live: str) -> list[str]:
            found, failures = await broken_deploys(fleet, hosts, link, live)
            gates.extend(found)
            return failures

        result = await under_load(
            deploy_one, rollback_to, port=port, pairs=pairs, min_requests=min_requests,
            # Every drain and enable reloads the balancer, which closes idle keep-alive client
            # connections: one request per connection measures the requests themselves.
            keepalive=False, sources=SOURCES, interlude=interlude, hold_until_min=True,
            label=f"{method}: rolling through the panel's balancer, {len(hosts)} hosts "
                  f"(drain {DRAIN_SECONDS:g}s, switch, probe, enable; Connection: close)",
        )
        per_backend, retried = upstream_counts(Path(link.config.access_log))
        return MethodRun(method, result, per_backend, retried, gates)


def upstream_counts(log: Path) -> tuple[Counter, int]:
    """Requests per answering backend in the balancer's access log, and how many were retried
    (their `upstream=` lists several addresses; the last one answered)."""
    counts: Counter = Counter()
    retried = 0
    with log.open("rb") as lines:
        for line in lines:
            match = _UPSTREAM.search(line)
            if not match:
                continue
            upstreams = re.split(rb",\s*|\s:\s", match[1])
            retried += len(upstreams) > 1
            counts[upstreams[-1].decode()] += 1
    return counts, retried


async def time_by_host_count(fleet: Fleet, counts: tuple[int, ...], *, runs: int,
                             drain_seconds: float) -> tuple[dict[int, list[Run]], ...]:
    """Rolling deploys of /srv/app through a round-robin balancer over the first N hosts, then
    as many rolling rollbacks (one release back, forward again, ...)."""
    deploys: dict[int, list[Run]] = {}
    rollbacks: dict[int, list[Run]] = {}
    for count in counts:
        hosts = fleet.hosts[:count]
        with panel_balancer(fleet, hosts, drain_seconds=drain_seconds) as (link, _port):
            await timed(_context(fleet, hosts, link))  # a new host clones the mirror first
            contexts = [_context(fleet, hosts, link) for _ in range(runs)]
            deploys[count] = [await timed(ctx) for ctx in contexts]
            back = [contexts[-2 if i % 2 == 0 else -1].release for i in range(runs)]
            rollbacks[count] = [await timed(_context(fleet, hosts, link, kind="rollback",
                                                     release=release)) for release in back]
    return deploys, rollbacks


async def rolling_through_panel_balancer(
    fleet: Fleet, hosts: list[NetnsHost], *, pairs: int, min_requests: int,
    counts: tuple[int, ...] = (1, 3, 10), runs: int = 3, count_drain_seconds: float = 2.0,
) -> LbRolling:
    """The whole scenario: every method under load (`min_requests` split evenly), then the
    time per rolling deploy against host count."""
    result = LbRolling(DRAIN_SECONDS, count_drain_seconds=count_drain_seconds)
    share = -(-min_requests // len(METHODS))
    for method in METHODS:
        result.methods.append(await one_method(fleet, hosts, method=method, pairs=pairs,
                                               min_requests=share))
    result.host_counts, result.host_rollbacks = await time_by_host_count(
        fleet, tuple(c for c in counts if c <= len(fleet.hosts)), runs=runs,
        drain_seconds=count_drain_seconds)
    return result
