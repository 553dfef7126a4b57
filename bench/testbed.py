"""The one-host benchmark bed: one sshd, nginx + php-fpm stacks, the demo app in git."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deployments.pipeline.context import DeployContext, ServerSpec
from servers.ssh import SSHTarget, generate_keypair
from testbed.gitrepo import AppRepo
from testbed.sshd import SshdHost
from testbed.web import SiteRoot, WebStack


@dataclass
class Site:
    name: str
    deploy_path: Path
    stack: WebStack


@dataclass
class Bed:
    base: Path
    host: SshdHost
    repo: AppRepo
    client_key: str
    deploy_key: str
    sites: dict[str, Site] = field(default_factory=dict)
    _releases: int = 0
    _ids: int = 0

    @property
    def target(self) -> SSHTarget:
        return SSHTarget(
            host=self.host.host,
            port=self.host.port,
            username=self.host.user,
            client_keys=(self.client_key,),
            host_key=self.host.host_key_line,
        )

    def add_site(self, name: str, *, misconfigured: bool = False) -> Site:
        deploy_path = self.base / "srv" / name
        stack = WebStack.start(
            self.base / f"web-{name}", sites=[SiteRoot(deploy_path)], misconfigured=misconfigured
        )
        self.sites[name] = Site(name, deploy_path, stack)
        return self.sites[name]

    def next_release(self) -> str:
        """Unique 14-digit names without waiting a second between deploys."""
        self._releases += 1
        moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=self._releases)
        return moment.strftime("%Y%m%d%H%M%S")

    def context(
        self, site: Site, *, kind: str = "deploy", release: str | None = None
    ) -> DeployContext:
        return site_context(
            deployment_id=self.next_id(),
            kind=kind,
            deploy_path=str(site.deploy_path),
            release=release or self.next_release(),
            servers=(ServerSpec(site.name, self.target,
                                deploy_roots=(str(site.deploy_path.parent),)),),
            git=self.host,
            repo=self.repo,
            deploy_key=self.deploy_key,
            reload_command=tuple(site.stack.reload_command),
        )

    def next_id(self) -> int:
        self._ids += 1
        return self._ids

    def close(self) -> None:
        for site in self.sites.values():
            site.stack.stop()
        self.host.stop()
        shutil.rmtree(self.base, ignore_errors=True)


def known_host(host: str, port: int) -> str:
    """The known_hosts name of host:port (OpenSSH writes port 22 without brackets)."""
    return host if port == 22 else f"[{host}]:{port}"


def site_context(
    *,
    deployment_id: int,
    kind: str,
    deploy_path: str,
    release: str,
    servers: tuple[ServerSpec, ...],
    git,
    repo: AppRepo,
    deploy_key: str,
    reload_command: tuple[str, ...],
    reload_method: str = "php-fpm",
    **extra,
) -> DeployContext:
    """The benchmark's site: the demo app (plain PHP, no build), fetched over ssh from `git`."""
    extra.setdefault("epoch", deployment_id)  # a higher epoch per run, as each claim gets
    return DeployContext(
        deployment_id=deployment_id,
        kind=kind,
        deploy_path=deploy_path,
        release=release,
        servers=servers,
        repository_url=repo.ssh_url(git.user, git.host, git.port),
        branch=repo.branch,
        deploy_key=deploy_key,
        repository_host_keys=(f"{known_host(git.host, git.port)} {git.host_key_line}",),
        preset="php",
        run_migrations=False,
        shared_dirs=(),
        shared_files=(),
        reload_method=reload_method,
        reload_command=reload_command,
        releases_to_keep=5,
        min_free_mb=10,
        **extra,
    )


def build() -> Bed:
    base = Path(tempfile.mkdtemp(prefix="deploynix-bench-"))
    client_private, client_public = generate_keypair("bench-client")
    deploy_private, deploy_public = generate_keypair("bench-deploy")
    host = SshdHost.start(base / "sshd", authorized_keys=[client_public, deploy_public])
    repo = AppRepo.create(base / "git", "demo")
    return Bed(
        base=base, host=host, repo=repo, client_key=client_private, deploy_key=deploy_private
    )
