"""Rolling deploys through the balancer the panel generates: the scenario `lb-rolling`.

The balancer is a real nginx (testbed/balancer.py) whose config is loadbalancers/nginx.py's
output, reached over SSH (an sshd on loopback) exactly as a deployment reaches it: every deploy
and rollback drains, switches, probes and enables each host through it
(deployments/pipeline/rolling.py) while the load generator checks every response.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

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
from testbed.sshd import SshdHost
from testbed.web import free_port

# Short enough for many pairs, long enough to cover nginx's reload.
DRAIN_SECONDS = 0.5


@contextlib.contextmanager
def panel_balancer(fleet: Fleet, hosts: list[NetnsHost]) -> Iterator[tuple[BalancerLink, int]]:
    """A balancer nginx + its sshd in front of `hosts`; the link a deployment would get."""
    base = fleet.base / "panel-lb"
    balancer = BalancerNginx.start(base / "nginx")
    public = asyncssh.import_private_key(fleet.client_key).export_public_key().decode()
    sshd = SshdHost.start(base / "sshd", authorized_keys=[public])
    try:
        port = free_port()
        site = nginx.BalancedSite(
            key="site1", server_name="_", listen=f"127.0.0.1:{port}", method=nginx.ROUND_ROBIN,
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
            reload_command=tuple(balancer.reload_command), drain_seconds=DRAIN_SECONDS,
        ), port
    finally:
        sshd.stop()
        balancer.stop()


async def rolling_through_panel_balancer(
    fleet: Fleet, hosts: list[NetnsHost], *, pairs: int, min_requests: int = 0
) -> ZeroDowntime:
    """Deploy/rollback pairs of /srv/app on `hosts`, each rolling through the balancer."""
    with panel_balancer(fleet, hosts) as (link, port):

        def context(**kwargs) -> DeployContext:
            ctx = fleet.context(hosts, **kwargs)
            servers = tuple(dataclasses.replace(spec, web_address=host.address)
                            for spec, host in zip(ctx.servers, hosts, strict=True))
            return dataclasses.replace(ctx, servers=servers, balancer=link,
                                       health_check=HealthCheck(path="/"))

        async def deploy_one() -> tuple[str, Run]:
            ctx = context()
            return ctx.release, await timed(ctx)

        async def rollback_to(release: str) -> Run:
            return await timed(context(kind="rollback", release=release))

        return await under_load(
            deploy_one, rollback_to, port=port, pairs=pairs, min_requests=min_requests,
            # Every drain and enable reloads the balancer, which closes idle keep-alive client
            # connections: one request per connection measures the requests themselves.
            keepalive=False,
            label=f"rolling through the panel's balancer, {len(hosts)} hosts "
                  f"(drain {DRAIN_SECONDS:g}s, switch, probe, enable; Connection: close)",
        )
