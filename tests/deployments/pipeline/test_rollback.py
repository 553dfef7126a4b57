"""Rolling back re-points `current` at an earlier release, which nginx then serves."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from deployments.pipeline import run_deploy, run_rollback
from testbed.web import SiteRoot, WebStack
from tests.deployments.pipeline.conftest import Site, make_site, run, without_build_tools

pytestmark = [pytest.mark.ssh, pytest.mark.web]


@dataclass
class TwoReleases:
    site: Site
    stack: WebStack
    first: str
    second: str
    first_sha: str


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory, sshd_host, ssh_client_key, deploy_key):
    site = make_site(tmp_path_factory.mktemp("rollback"), sshd_host, ssh_client_key[0], deploy_key)
    stack = WebStack.start(site.deploy_path.parent / "web", sites=[SiteRoot(site.deploy_path)])
    first_sha = without_build_tools(site.repo)
    first = site.context(reload_method="php-fpm", reload_command=tuple(stack.reload_command))
    assert run(run_deploy, first)[0].status == "succeeded"
    site.repo.commit({"VERSION": "9.9.9\n"}, "Release 9.9.9")
    second = site.context()
    assert run(run_deploy, second)[0].status == "succeeded"
    yield TwoReleases(site, stack, first.release, second.release, first_sha)
    stack.stop()


def test_it_rolls_back_to_the_previous_release_and_serves_it(two_releases):
    site, stack = two_releases.site, two_releases.stack
    ctx = site.context(kind="rollback", release=two_releases.first, reload_method="php-fpm",
                       reload_command=tuple(stack.reload_command))  # fmt: skip

    result, sink = run(run_rollback, ctx)

    assert (result.status, result.commit) == ("succeeded", two_releases.first_sha)
    assert site.live() == two_releases.first
    assert stack.get("/")[1].startswith(f"release={two_releases.first} version=1.0.0".encode())


def test_it_refuses_a_rollback_to_a_missing_release(two_releases):
    site = two_releases.site
    live_before = site.live()

    result, sink = run(run_rollback, site.context(kind="rollback", release="20000101000000"))

    assert (result.status, result.failed_step) == ("failed", "check_release")
    assert "release 20000101000000 does not exist on this server" in result.error
    assert site.live() == live_before and sink.status("activate_release") is None
