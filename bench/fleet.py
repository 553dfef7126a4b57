"""A fleet of namespaced hosts (testbed/netns.py) plus a git host, and deploy contexts for them."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.hosts import LoadBalancer, NetnsHost, Network
from bench.testbed import site_context
from deployments.pipeline.context import DeployContext, ServerSpec
from servers.ssh import SSHTarget, generate_keypair
from testbed.gitrepo import AppRepo


@dataclass
class Fleet:
    base: Path
    network: Network
    git: NetnsHost
    repo: AppRepo
    client_key: str
    deploy_key: str
    hosts: list[NetnsHost] = field(default_factory=list)
    balancers: list[LoadBalancer] = field(default_factory=list)
    _releases: int = 0
    _ids: int = 0

    def server(self, host: NetnsHost) -> ServerSpec:
        return ServerSpec(
            host.name,
            SSHTarget(
                host=host.address,
                port=22,
                username="root",
                client_keys=(self.client_key,),
                host_key=host.host_key_line,
            ),
            deploy_roots=("/srv",),  # every site of the fleet lives in /srv/<site>
        )

    def next_release(self) -> str:
        """Unique 14-digit names (a different year from the loopback bed's, so never equal)."""
        self._releases += 1
        return (datetime(2027, 1, 1, tzinfo=UTC) + timedelta(seconds=self._releases)).strftime(
            "%Y%m%d%H%M%S"
        )

    def context(
        self,
        hosts: list[NetnsHost],
        *,
        site: str = "app",
        kind: str = "deploy",
        release: str | None = None,
    ) -> DeployContext:
        """A deploy (or rollback to `release`) of /srv/<site> on every host in `hosts`."""
        self._ids += 1
        return site_context(
            deployment_id=self._ids,
            kind=kind,
            deploy_path=f"/srv/{site}",
            release=release or self.next_release(),
            servers=tuple(self.server(host) for host in hosts),
            git=self.git,
            repo=self.repo,
            deploy_key=self.deploy_key,
            reload_command=hosts[0].reload_command,
        )

    def balancer(self, hosts: list[NetnsHost]) -> LoadBalancer:
        self.balancers.append(
            LoadBalancer(self.base / f"lb{len(self.balancers)}", [host.address for host in hosts])
        )
        return self.balancers[-1]

    def close(self) -> None:
        for balancer in self.balancers:
            balancer.stop()
        for host in [*self.hosts, self.git]:
            host.stop()
        self.network.close()
        shutil.rmtree(self.base, ignore_errors=True)


# How long a host's sshd may take to reap the sessions of a finished deploy before its CPU is read.
REAP_WAIT = 3.0


def cpu_seconds(host: NetnsHost) -> float:
    """CPU time (user + system) of the host's sshd and every process it reaped so far: its
    sessions, and through them each command's shell, git and tar. A session counts once the
    connection is closed and sshd has waited for it (see settle)."""
    sshd = _sshd_pid(host)
    fields = Path(f"/proc/{sshd}/stat").read_text().rpartition(")")[2].split()
    ticks = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def settle(hosts: list[NetnsHost]) -> None:
    """Wait (up to REAP_WAIT) until no host's sshd has a session left, so cpu_seconds is whole."""
    deadline = time.monotonic() + REAP_WAIT
    for host in hosts:
        sshd = _sshd_pid(host)
        children = Path(f"/proc/{sshd}/task/{sshd}/children")
        while children.read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.01)


def _sshd_pid(host: NetnsHost) -> int:
    """The host's sshd: nsenter execs it (no --fork), so the spawned process is sshd itself."""
    return next(p.pid for p in host.processes if "/usr/sbin/sshd" in p.args)


def build(count: int) -> Fleet:
    """`count` web hosts (sshd + nginx + php-fpm) and a git host, each in its own namespaces."""
    base = Path(tempfile.mkdtemp(prefix="deploynix-fleet-"))
    client_private, client_public = generate_keypair("bench-client")
    deploy_private, deploy_public = generate_keypair("bench-deploy")
    network = Network.create()
    hosts: list[NetnsHost] = []
    git = None
    try:
        git = NetnsHost.start(network, 0, base / "git-host", [deploy_public], web=False)
        repo = AppRepo.create(base / "git", "demo")
        # Starting is mostly waiting for daemons: start the hosts side by side.
        with ThreadPoolExecutor(max_workers=5) as pool:
            futures = [
                pool.submit(NetnsHost.start, network, i, base / f"host{i}", [client_public])
                for i in range(1, count + 1)
            ]
        hosts = [f.result() for f in futures if not f.exception()]
        for future in futures:
            future.result()  # re-raise the first failure; the started hosts are stopped below
    except BaseException:
        for host in [*hosts, *([git] if git else [])]:
            host.stop()
        network.close()
        raise
    return Fleet(base, network, git, repo, client_private, deploy_private, hosts)
