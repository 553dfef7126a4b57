"""The server has the last word on a deploy path: prepare refuses a path outside the server's
allowed roots (symlinks resolved), inside a hidden directory, or a non-empty directory that
Deploynix did not create; cleanup never prunes a release Deploynix did not create."""

from __future__ import annotations

import dataclasses

import pytest

from deployments.pipeline import run_deploy
from deployments.pipeline.commands import releases_to_remove
from deployments.pipeline.facts import ServerFacts
from tests.deployments.pipeline.conftest import Site, run, without_build_tools
from tests.deployments.pipeline.contexts import make_ctx

pytestmark = pytest.mark.ssh
FOREIGN = "20200101000000"


@pytest.fixture(autouse=True)
def plain_app(site: Site) -> None:
    without_build_tools(site.repo)  # nothing to install: fast deploys


def deploy(site: Site, **overrides):
    return run(run_deploy, site.context(preset="none", **overrides))


def test_it_refuses_a_deploy_path_outside_the_allowed_roots(site: Site):
    server = dataclasses.replace(site.server(), deploy_roots=("/var/www", "~"))
    result, _ = deploy(site, servers=(server,))
    assert result.status == "failed" and result.failed_step == "prepare"
    assert "outside the allowed roots" in result.error
    assert not site.deploy_path.exists()


def test_it_refuses_a_symlink_that_leads_out_of_the_allowed_roots(site: Site, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    site.deploy_path.parent.mkdir(parents=True, exist_ok=True)
    site.deploy_path.symlink_to(outside)
    server = dataclasses.replace(site.server(), deploy_roots=(str(site.deploy_path.parent),))
    result, _ = deploy(site, servers=(server,))
    assert result.status == "failed" and "outside the allowed roots" in result.error
    assert list(outside.iterdir()) == []


def test_it_refuses_a_hidden_directory(site: Site):
    site.deploy_path = site.deploy_path.parent / ".ssh" / "site"
    result, _ = deploy(site)
    assert result.status == "failed" and "hidden directory" in result.error


def test_it_refuses_a_non_empty_directory_it_did_not_create(site: Site):
    (site.deploy_path / "repo").mkdir(parents=True)
    (site.deploy_path / "releases" / FOREIGN).mkdir(parents=True)
    result, _ = deploy(site)
    assert result.status == "failed" and "was not created by Deploynix" in result.error
    assert (site.deploy_path / "repo").is_dir()
    assert (site.deploy_path / "releases" / FOREIGN).is_dir()


def test_it_deploys_into_an_existing_empty_directory(site: Site):
    site.deploy_path.mkdir(parents=True)
    result, _ = deploy(site)
    assert result.status == "succeeded"


def test_it_never_prunes_a_release_it_did_not_create(site: Site):
    first = site.context(preset="none")
    assert run(run_deploy, first)[0].status == "succeeded"
    (site.deploy_path / "releases" / FOREIGN).mkdir()  # put there by someone else
    for _ in range(2):
        assert deploy(site, releases_to_keep=1)[0].status == "succeeded"
    assert (site.deploy_path / "releases" / FOREIGN).is_dir()
    assert not (site.deploy_path / "releases" / first.release).exists()  # ours: pruned


def test_the_selection_skips_releases_neither_created_nor_logged():
    facts = ServerFacts(releases=(FOREIGN, "20260101000001"), logged_releases=None,
                        created_releases=("20260101000001",))
    ctx = make_ctx(release="20260102000000", releases_to_keep=1)
    assert releases_to_remove(ctx, facts) == ["20260101000001"]
