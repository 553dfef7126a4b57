"""Deploying as an unprivileged SSH user with passwordless sudo: every command runs as the
site's user through `sudo -n -u`, the PHP-FPM reload through `sudo -n`; a sudo that wants a
password fails the deploy at once with sudo's own words (tests/fixtures/bare.py hosts)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from deployments.pipeline import run_deploy
from deployments.pipeline.context import WorkerSpec
from servers.provision.runner import provision
from servers.provision.steps import SUDO, fpm_reload
from testbed.gitrepo import AppRepo
from tests.deployments.pipeline.conftest import RecordingSink, without_build_tools
from tests.deployments.pipeline.test_provisioned import _context
from tests.fixtures.bare import Recorder, bare_target, spec

pytestmark = [pytest.mark.ssh, pytest.mark.web]


@pytest.fixture
def repo(tmp_path) -> AppRepo:
    repo = AppRepo.create(tmp_path / "repos", "laravelish")
    without_build_tools(repo)
    return repo


async def _deploy_as(host, key, repo, user: str, sink: RecordingSink, **overrides):
    """Provision (as `user`, or as root where its sudo is refused), then deploy as `user`."""
    result = await provision([bare_target(host, key, user)], spec("shop"), Recorder())
    if result.status != "succeeded":
        result = await provision([bare_target(host, key)], spec("shop"), Recorder())
    ctx = _context(host, key, repo, "shop", result.facts[host.name])
    [server] = ctx.servers
    server = replace(server, target=replace(server.target, username=user))
    ctx = replace(ctx, servers=(server,),
                  reload_command=tuple(fpm_reload(result.facts[host.name], SUDO)), **overrides)
    return await run_deploy(ctx, sink)


async def test_it_deploys_as_the_site_user_through_sudo(bare_host, ssh_client_key, repo):
    bare_host.add_login_user("deployer", ssh_client_key[1], "deployer ALL=(ALL:ALL) NOPASSWD: ALL")
    sink = RecordingSink()
    result = await _deploy_as(bare_host, ssh_client_key[0], repo, "deployer", sink)
    assert result.status == "succeeded", result.error + sink.text()
    status, body = bare_host.get("/", host="shop.example.test")
    assert status == 200 and b"shop" in body
    owner = bare_host.run(["stat", "-c", "%U", "/var/www/shop/current/.env"]).stdout.strip()
    assert owner == "site-shop"


async def test_a_sudo_that_asks_for_a_password_fails_the_deploy_at_once(
    bare_host, ssh_client_key, repo
):
    bare_host.add_login_user("deployer", ssh_client_key[1], "deployer ALL=(ALL:ALL) ALL")
    sink = RecordingSink()
    result = await _deploy_as(bare_host, ssh_client_key[0], repo, "deployer", sink)
    assert result.status == "failed"
    assert "a password is required" in sink.text() + result.error
    assert bare_host.run(["test", "-e", "/var/www/shop/current"], check=False).returncode == 1


async def test_its_workers_run_as_the_site_user_installed_through_sudo(
    bare_host, ssh_client_key, repo
):
    bare_host.add_login_user("deployer", ssh_client_key[1], "deployer ALL=(ALL:ALL) NOPASSWD: ALL")
    conf = bare_host.start_supervisor()  # Debian's: conf.d/ and its socket are root's
    sink = RecordingSink()
    queue = WorkerSpec("queue", "deploynix-shop-queue", "sleep 9999")
    result = await _deploy_as(bare_host, ssh_client_key[0], repo, "deployer", sink,
                              worker_group="deploynix-shop", workers=(queue,))
    assert result.status == "succeeded", result.error + sink.text()
    pid = bare_host.run(["supervisorctl", "-c", conf, "pid",
                         "deploynix-shop:deploynix-shop-queue_00"]).stdout.strip()
    assert bare_host.run(["stat", "-c", "%U", f"/proc/{pid}"]).stdout.strip() == "site-shop"
    cwd = bare_host.run(["readlink", f"/proc/{pid}/cwd"]).stdout.strip()
    assert cwd == bare_host.run(["readlink", "-f", "/var/www/shop/current"]).stdout.strip()
