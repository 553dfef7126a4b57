"""Skip when live, on two real servers: the servers are the truth. Two sshd hosts serve the
same deploy path, each its own copy (the second one runs in a mount namespace with a private
directory bound over the site's), so each server has its own releases and `current`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployments.models import Deployment, Status, Trigger
from deployments.pipeline.steps import ALREADY_LIVE
from deployments.services import deployment_request
from deployments.tasks import run_deployment
from servers.models import OrganizationKey, Server
from sites.services import site_update
from tenancy.audit import Actor
from testbed.sshd import SSHD, SshdHost
from tests.fixtures.stage import Stage

pytestmark = [
    pytest.mark.ssh, pytest.mark.redis, pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(os.getuid() != 0, reason="a mount namespace needs root"),
]


def sshd_with_own_copy(base: Path, shared: Path, private: Path, keys: list[str]) -> SshdHost:
    """An sshd whose sessions see `private` where everyone else sees `shared`."""

    class OwnCopySshd(SshdHost):
        def _spawn(self) -> subprocess.Popen[bytes]:
            script = 'mount --bind "$1" "$2" && exec "$3" -D -e -f "$4"'
            with open(self.log_path, "ab") as log:
                return subprocess.Popen(
                    ["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                     "sh", str(private), str(shared), SSHD, str(self.base / "sshd_config")],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)

    return OwnCopySshd.start(base, authorized_keys=keys)


@pytest.fixture
def second(stage: Stage, cast, tmp_path: Path) -> Iterator[Path]:
    """web-2 added to the stage's site; yields its own copy of the deploy path's parent."""
    shared, private = stage.deploy_path.parent, tmp_path / "web-2-files"
    shared.mkdir(parents=True, exist_ok=True)
    private.mkdir()
    keys = [key.public_key for key in OrganizationKey.objects.filter(organization=cast.org)]
    host = sshd_with_own_copy(tmp_path / "sshd-web-2", shared, private, keys)
    first = stage.site.servers.get()
    server = Server.objects.create(
        organization=cast.org, name="web-2", host=host.host, port=host.port, user=host.user,
        host_key=host.host_key_line, deploy_roots=first.deploy_roots)
    site_update(site=stage.site, actor=Actor(user=cast.owner), servers=[first, server])
    yield private / stage.deploy_path.name
    host.stop()


def deployed(stage: Stage, commit: str) -> Deployment:
    deployment = deployment_request(site=stage.site, actor=Actor.system(),
                                    trigger=Trigger.API, commit=commit)
    run_deployment(deployment.pk)
    deployment.refresh_from_db()
    return deployment


def revision(deploy_path: Path) -> str:
    return (deploy_path / "current" / "REVISION").read_text().strip()


def test_a_commit_live_on_both_servers_is_skipped(stage: Stage, second: Path):
    commit = stage.release("1.0.0")
    assert deployed(stage, commit).status == Status.SUCCEEDED
    assert revision(stage.deploy_path) == revision(second) == commit
    again = deployed(stage, commit)
    assert again.status == Status.SKIPPED and f"{ALREADY_LIVE}: {commit[:12]}" in again.error


def test_a_commit_live_on_one_server_only_is_deployed(stage: Stage, second: Path):
    old = deployed(stage, stage.release("1.0.0"))
    new = deployed(stage, stage.release("2.0.0"))
    current = second / "current"
    current.unlink()  # web-2 went back to the old release behind the panel's back
    current.symlink_to(f"releases/{old.release}")
    again = deployed(stage, new.commit_sha)
    assert again.status == Status.SUCCEEDED, again.error
    assert revision(stage.deploy_path) == revision(second) == new.commit_sha
