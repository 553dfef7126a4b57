"""A real deployable site for end-to-end tests of schedules and notifications: a plain-PHP app
repository served by the session's sshd, a server and a site trusting each other's keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from servers.models import OrganizationKey, Server
from sites.models import Site
from sites.services import site_create
from tenancy.audit import Actor
from testbed.gitrepo import AppRepo
from testbed.sshd import SshdHost

NO_BUILD_TOOLS = dict.fromkeys(("composer.json", "composer.lock", "package.json",
                                "package-lock.json"))


@pytest.fixture
def repo(tmp_path: Path) -> AppRepo:
    repo = AppRepo.create(tmp_path / "repos", "laravelish")
    repo.commit(NO_BUILD_TOOLS, "Plain PHP: nothing to install")
    return repo


@pytest.fixture
def live_site(cast, sshd_host: SshdHost, repo: AppRepo, tmp_path: Path) -> Site:
    """A plain-PHP site deployable to the session's sshd (organization and deploy keys trusted)."""
    for key in OrganizationKey.objects.filter(organization=cast.org):
        sshd_host.add_authorized_key(key.public_key)
    server = Server.objects.create(
        organization=cast.org, name="web-1", host=sshd_host.host, port=sshd_host.port,
        user=sshd_host.user, host_key=sshd_host.host_key_line,
    )
    site = site_create(
        organization=cast.org, actor=Actor(user=cast.owner), servers=[server], name="demo",
        preset="php", reload_method="none", deploy_path=str(sshd_host.root / tmp_path.name),
        repository_url=repo.ssh_url(sshd_host.user, sshd_host.host, sshd_host.port),
        repository_host_keys=f"[{sshd_host.host}]:{sshd_host.port} {sshd_host.host_key_line}",
    )
    sshd_host.add_authorized_key(site.deploy_key_public)
    return site
