"""Each release gets its own .env: a failed deploy changes nothing live, a rollback brings back
the environment the old release ran with, and releases from before (a link to shared/.env)
keep working."""

from __future__ import annotations

import pytest

from deployments.pipeline import run_deploy, run_rollback
from tests.deployments.pipeline.conftest import Site, run, without_build_tools

pytestmark = [pytest.mark.ssh]

OLD, NEW = "APP_NAME=Old\n", "APP_NAME=New\nADDED=1\n"


def _deploy(site: Site, env: str, **options) -> str:
    ctx = site.context(env_file=env, **options)
    result, _sink = run(run_deploy, ctx)
    assert result.status == ("failed" if "deploy_script" in options else "succeeded"), result
    return ctx.release


def _live_env(site: Site) -> str:
    return (site.deploy_path / "current/.env").read_text()


def test_it_leaves_the_live_env_alone_when_a_deploy_fails(site: Site):
    without_build_tools(site.repo)
    _deploy(site, OLD)

    _deploy(site, NEW, deploy_script="exit 3")

    assert _live_env(site) == OLD
    assert not (site.deploy_path / "shared/.env").exists()


def test_it_restores_the_old_env_with_a_rollback(site: Site):
    without_build_tools(site.repo)
    first = _deploy(site, OLD)
    _deploy(site, NEW)
    assert _live_env(site) == NEW

    result, _sink = run(run_rollback, site.context(kind="rollback", release=first))

    assert (result.status, site.live()) == ("succeeded", first)
    assert _live_env(site) == OLD


def test_it_keeps_a_release_linked_to_shared_env_working(site: Site):
    without_build_tools(site.repo)
    legacy = _deploy(site, OLD)
    shared_env = site.deploy_path / "shared/.env"  # what Deploynix wrote before versions
    shared_env.write_text(OLD)
    (site.deploy_path / "current/.env").unlink()
    (site.deploy_path / "current/.env").symlink_to(shared_env)

    new = _deploy(site, NEW)

    assert not (site.deploy_path / "releases" / new / ".env").is_symlink()
    assert _live_env(site) == NEW
    assert (site.deploy_path / "releases" / legacy / ".env").read_text() == OLD
