"""Cleanup keeps N successful releases, never the live or previous one; failed ones don't count."""

from __future__ import annotations

import pytest

from deployments.pipeline import run_deploy, run_rollback
from tests.deployments.pipeline.conftest import Site, run, without_build_tools

pytestmark = pytest.mark.ssh


def releases(site: Site) -> list[str]:
    return sorted(p.name for p in (site.deploy_path / "releases").iterdir())


def deploy(site: Site, **overrides) -> str:
    ctx = site.context(preset="none", **overrides)
    run(run_deploy, ctx)
    return ctx.release


def test_it_keeps_n_successful_releases_and_drops_failed_ones_at_once(site: Site):
    without_build_tools(site.repo)
    a, b = deploy(site, releases_to_keep=2), deploy(site, releases_to_keep=2)
    failed = deploy(site, releases_to_keep=2, deploy_script="exit 1")
    d = deploy(site, releases_to_keep=2)

    assert releases(site) == [b, d]
    assert a < b < failed < d and site.live() == d


def test_it_never_prunes_the_previous_release_after_a_rollback(site: Site):
    without_build_tools(site.repo)
    a, _b = deploy(site, releases_to_keep=1), deploy(site, releases_to_keep=1)
    run(run_rollback, site.context(kind="rollback", release=a, preset="none"))
    c = deploy(site, releases_to_keep=1)

    assert releases(site) == [a, c]
