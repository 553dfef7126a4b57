"""Shared paths: seeded on first deploy, linked into releases, repo symlinks never followed."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployments.pipeline import run_deploy
from testbed.gitrepo import git
from tests.deployments.pipeline.conftest import Site, run, without_build_tools

pytestmark = pytest.mark.ssh


def commit_symlink(site: Site, name: str, target: Path) -> None:
    """Commit `name` as a symlink to `target` (what a hostile repository could contain)."""
    work = site.repo.work_tree
    (work / name).symlink_to(target)
    git("add", "--all", "--force", "--", name, cwd=work)
    git("commit", "--quiet", "-m", f"{name} is a symlink", cwd=work)
    git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=work)


def test_it_seeds_shared_dirs_from_the_first_release_and_links_them(site: Site):
    without_build_tools(site.repo)
    site.repo.commit({"config/app.php": "<?php return [];\n"}, "Add config")
    ctx = site.context(preset="none", shared_dirs=("config",), shared_files=("secret.txt",))

    run(run_deploy, ctx)

    shared = site.deploy_path / "shared"
    assert (shared / "config/app.php").read_text() == "<?php return [];\n"
    assert (site.release_dir(ctx) / "config").readlink() == shared / "config"
    assert (shared / "secret.txt").read_bytes() == b""


def test_it_replaces_a_committed_symlink_without_touching_its_target(site: Site, tmp_path):
    outside = tmp_path / "outside"
    (outside / "app").mkdir(parents=True)
    (outside / "app/precious").write_text("keep")
    without_build_tools(site.repo)
    commit_symlink(site, "storage", outside)
    ctx = site.context(preset="none")

    run(run_deploy, ctx)

    assert (site.release_dir(ctx) / "storage").readlink() == site.deploy_path / "shared/storage"
    assert (outside / "app/precious").read_text() == "keep"
    assert not (site.deploy_path / "shared/storage/app").exists()  # not seeded through the link


def test_it_refuses_a_shared_path_below_a_committed_symlink(site: Site, tmp_path):
    outside = tmp_path / "outside"
    (outside / "app").mkdir(parents=True)
    without_build_tools(site.repo)
    commit_symlink(site, "storage", outside)

    result, _sink = run(run_deploy, site.context(preset="none", shared_dirs=("storage/app",)))

    assert (result.status, result.failed_step) == ("failed", "link_shared")
    assert "storage is a symlink in the repository" in result.error
    assert (outside / "app").is_dir() and not (outside / "app").is_symlink()
