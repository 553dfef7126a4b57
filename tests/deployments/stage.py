"""A real site for deployment tests: app repository served by the test sshd, server, Site row."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from deployments.models import Deployment, Trigger
from deployments.services import deployment_request
from servers.models import OrganizationKey, Server
from sites.models import Site
from sites.services import site_create
from tenancy.audit import Actor
from testbed.gitrepo import AppRepo
from testbed.sshd import SshdHost

NO_BUILD_TOOLS = dict.fromkeys(
    ("composer.json", "composer.lock", "package.json", "package-lock.json")
)
SECRET = "e2e-secret-password"


@dataclass
class Stage:
    site: Site
    repo: AppRepo
    deploy_path: Path

    def deploy(self, commit: str | None = None) -> Deployment:
        return deployment_request(
            site=self.site, actor=Actor.system(), trigger=Trigger.API, commit=commit
        )

    def release(self, version: str) -> str:
        """Commit a new VERSION; return its SHA."""
        return self.repo.commit({"VERSION": f"{version}\n"}, f"Release {version}")


def make_stage(cast, sshd_host: SshdHost, base: Path, **site_fields) -> Stage:
    """A plain-PHP app (no composer/npm: deploys take seconds) deployable to `sshd_host`."""
    for key in OrganizationKey.objects.filter(organization=cast.org):
        sshd_host.add_authorized_key(key.public_key)
    server = Server.objects.create(
        organization=cast.org, name="web-1", host=sshd_host.host, port=sshd_host.port,
        user=sshd_host.user, host_key=sshd_host.host_key_line,
        deploy_roots=[str(sshd_host.root)],  # test sites live in the host's own directory
    )
    repo = AppRepo.create(base / "repos", "laravelish")
    repo.commit(NO_BUILD_TOOLS, "Plain PHP: nothing to install")
    deploy_path = sshd_host.root / base.name / "site"
    fields = {
        "name": "demo", "preset": "php", "reload_method": "none",
        "repository_url": repo.ssh_url(sshd_host.user, sshd_host.host, sshd_host.port),
        "deploy_path": str(deploy_path),
        "repository_host_keys": f"[{sshd_host.host}]:{sshd_host.port} {sshd_host.host_key_line}",
        "env": {"APP_NAME": "Demo", "DB_PASSWORD": SECRET},
        "deploy_script": 'grep DB_PASSWORD "$SHARED_PATH/.env"',
        **site_fields,
    }
    site = site_create(organization=cast.org, actor=Actor(user=cast.owner), servers=[server],
                       **fields)
    sshd_host.add_authorized_key(site.deploy_key_public)
    return Stage(site, repo, deploy_path)


def wait_until(predicate, timeout: float = 120.0, what: str = "condition"):
    """Poll `predicate` every 0.2 s; return its first truthy value or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def finished(*deployments: Deployment, timeout: float = 120.0) -> list[Deployment]:
    """Wait until every deployment has finished; return the fresh rows."""

    def all_finished():
        rows = [Deployment.objects.get(pk=d.pk) for d in deployments]
        return rows if all(row.is_finished for row in rows) else None

    return wait_until(all_finished, timeout, what="deployments to finish")
