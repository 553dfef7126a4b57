"""vendor/ and node_modules are reused as hard links while their lock files are unchanged.

The built app (testbed/apps/built: composer path repositories only) is deployed three times
on the suite's sshd: cold, then with a new class but the same lock files, then with both lock
files changed. Its npm side is swapped for a `file:` dependency, so npm ci needs no registry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from deployments.pipeline import run_deploy
from testbed.gitrepo import AppRepo
from tests.deployments.pipeline.conftest import RecordingSink, Site, run

pytestmark = pytest.mark.ssh

PACKAGE = {"name": "built-offline", "version": "1.0.0", "private": True,
           "scripts": {"build": "node build.js"},
           "dependencies": {"acme-banner": "file:packages/acme-banner"}}
LOCK = {"name": "built-offline", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
        "packages": {"": {k: PACKAGE[k] for k in ("name", "version", "dependencies")},
                     "node_modules/acme-banner": {"resolved": "packages/acme-banner",
                                                  "link": True},
                     "packages/acme-banner": {"version": "1.0.0"}}}
OFFLINE_NPM = {
    "package.json": json.dumps(PACKAGE),
    "package-lock.json": json.dumps(LOCK),
    "packages/acme-banner/package.json": '{"name": "acme-banner", "version": "1.0.0"}',
    "packages/acme-banner/index.js": 'module.exports = "banner";\n',
    "build.js": 'require("fs").writeFileSync("public/built.txt", require("acme-banner"));\n',
}
NEW_CLASS = {"src/Extra.php": "<?php\n\nnamespace App;\n\nfinal class Extra\n{\n}\n"}


@dataclass
class Releases:
    cold: Path
    same_locks: Path
    new_locks: Path
    sinks: list[RecordingSink]


def _changed_locks(repo: AppRepo) -> dict[str, str]:
    """Both lock files with different bytes, still valid for their installers."""
    composer_lock = json.loads((repo.work_tree / "composer.lock").read_text())
    composer_lock["prefer-stable"] = True
    return {"composer.lock": json.dumps(composer_lock, indent=4),
            "package-lock.json": json.dumps(LOCK, indent=4)}


@pytest.fixture(scope="module")
def releases(tmp_path_factory, sshd_host, ssh_client_key, deploy_key) -> Releases:
    base = tmp_path_factory.mktemp("build-reuse")
    repo = AppRepo.create(base / "repos", "built")
    repo.commit(OFFLINE_NPM, "npm from a local package")
    site = Site(repo, sshd_host.root / base.name / "site", sshd_host, ssh_client_key[0],
                deploy_key)
    sinks: list[RecordingSink] = []

    def deploy() -> Path:
        ctx = site.context(preset="php", run_migrations=False, env_file=None)
        result, sink = run(run_deploy, ctx)
        assert result.status == "succeeded", result.error
        sinks.append(sink)
        return site.release_dir(ctx)

    cold = deploy()
    repo.commit(NEW_CLASS, "A new class, the same lock files")
    same_locks = deploy()
    repo.commit(_changed_locks(repo), "New lock files")
    return Releases(cold, same_locks, deploy(), sinks)


def _same_file(a: Path, b: Path) -> bool:
    return a.lstat().st_ino == b.lstat().st_ino


def test_it_hard_links_node_modules_and_vendor_when_the_locks_are_unchanged(releases):
    old, new = releases.cold, releases.same_locks

    assert _same_file(old / "node_modules/.package-lock.json",
                      new / "node_modules/.package-lock.json")
    assert _same_file(old / "vendor/acme/clock", new / "vendor/acme/clock")
    assert (new / "public/built.txt").read_text() == "banner"  # the build still ran


def test_it_keeps_the_live_release_autoloader_when_the_new_one_is_written(releases):
    classmap = "vendor/composer/autoload_classmap.php"

    assert "App\\\\Extra" in (releases.same_locks / classmap).read_text()
    assert "App\\\\Extra" not in (releases.cold / classmap).read_text()


def test_it_installs_again_when_the_lock_files_change(releases):
    old, new = releases.same_locks, releases.new_locks

    assert not _same_file(old / "node_modules/.package-lock.json",
                          new / "node_modules/.package-lock.json")
    assert not _same_file(old / "vendor/acme/clock", new / "vendor/acme/clock")
    assert "App\\\\Extra" in (new / "vendor/composer/autoload_classmap.php").read_text()


def test_it_records_the_root_version_composer_would_have_guessed(releases):
    # The pipeline names it (COMPOSER_ROOT_VERSION) so that composer skips asking git, hg,
    # fossil and svn; what composer records must stay what its guess gives in a release.
    installed = (releases.new_locks / "vendor/composer/installed.php").read_text()

    assert "'pretty_version' => '1.0.0+no-version-set',\n        'version' => '1.0.0.0'," in (
        installed.split("'versions'")[0]
    )
