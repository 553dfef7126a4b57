"""Deploying to a host Deploynix provisioned: the site runs as its own unix user, served by the
provisioned nginx block and PHP-FPM pool (tests/fixtures/bare.py hosts)."""

from __future__ import annotations

import pytest

from deployments.pipeline import DeployContext, ServerSpec, run_deploy
from servers.provision.runner import provision
from servers.provision.steps import fpm_reload
from servers.ssh import SSHTarget
from testbed.gitrepo import AppRepo
from tests.deployments.pipeline.conftest import RecordingSink, next_release, without_build_tools
from tests.fixtures.bare import Recorder, bare_target, spec

pytestmark = [pytest.mark.ssh, pytest.mark.web]

_ids = iter(range(1, 1000))


async def _provisioned(host, key, name):
    result = await provision([bare_target(host, key)], spec(name), Recorder())
    assert result.status == "succeeded", result.error
    return result.facts[host.name]


def _context(host, key, repo: AppRepo, name: str, facts, **overrides) -> DeployContext:
    target = SSHTarget(host=host.address, port=22, username="root", client_keys=(key,),
                       host_key=host.host_key_line)
    server = ServerSpec(host.name, target, deploy_roots=("/var/www",), run_as=f"site-{name}",
                        web_address=host.address)
    values = dict(
        deployment_id=next(_ids), kind="deploy", deploy_path=f"/var/www/{name}",
        release=next_release(), servers=(server,),
        # The host serves the repository too (root over its own sshd; /tmp is shared with it).
        repository_url=repo.ssh_url("root", host.address, 22), deploy_key=key,
        repository_host_keys=(f"{host.address} {host.host_key_line}",),
        env_file=f"APP_NAME={name}\nAPP_KEY=base64:c2VjcmV0c2VjcmV0=\n",
        reload_method="php-fpm", reload_command=tuple(fpm_reload(facts)), min_free_mb=1,
    )
    values.update(overrides)
    values.setdefault("epoch", values["deployment_id"])
    return DeployContext(**values)


@pytest.fixture
def repo(tmp_path) -> AppRepo:
    repo = AppRepo.create(tmp_path / "repos", "laravelish")
    without_build_tools(repo)
    return repo


async def test_it_serves_the_first_deploy_at_the_domain(bare_host, ssh_client_key, repo):
    key = ssh_client_key[0]
    facts = await _provisioned(bare_host, key, "shop")
    sink = RecordingSink()
    result = await run_deploy(_context(bare_host, key, repo, "shop", facts), sink)
    assert result.status == "succeeded", result.error + sink.text()
    status, body = bare_host.get("/", host="shop.example.test")
    assert status == 200 and b"shop" in body
    # The environment lives in the release (docs/pipeline.md, write_env), owned by the site.
    owner = bare_host.run(["stat", "-c", "%U", "/var/www/shop/current/.env"]).stdout.strip()
    assert owner == "site-shop"


async def test_one_sites_deploy_script_cannot_read_anothers_env(bare_host, ssh_client_key, repo):
    key = ssh_client_key[0]
    facts = await _provisioned(bare_host, key, "alpha")
    await _provisioned(bare_host, key, "beta")
    assert (await run_deploy(_context(bare_host, key, repo, "beta", facts), RecordingSink())
            ).status == "succeeded"
    sink = RecordingSink()
    # Its environment is the live release's own .env (and the shared/ folder beside it).
    spy = "cat /var/www/beta/current/.env; cat /var/www/beta/shared/.env"
    result = await run_deploy(_context(bare_host, key, repo, "alpha", facts, deploy_script=spy),
                              sink)
    assert result.status == "failed"
    assert "Permission denied" in sink.text()
    assert "APP_NAME=beta" not in sink.text()


async def test_it_warns_when_composer_json_requires_a_missing_extension(
    bare_host, ssh_client_key, repo
):
    key = ssh_client_key[0]
    facts = await _provisioned(bare_host, key, "shop")
    assert "gd" not in facts.extensions and "mbstring" in facts.extensions
    repo.commit({"composer.json": '{"require": {"ext-gd": "*", "ext-mbstring": "*"}}'},
                "Needs gd")
    sink = RecordingSink()
    await run_deploy(_context(bare_host, key, repo, "shop", facts), sink)
    warnings = [line for line in sink.text().splitlines() if "lacks" in line]
    assert warnings == [
        "warning: composer.json requires PHP extensions this server lacks: gd"]
