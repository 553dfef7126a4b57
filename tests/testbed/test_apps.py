"""The app templates build offline and behave like the Laravel pieces a deploy touches."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from testbed.gitrepo import copy_template
from testbed.web import SiteRoot
from tests.fixtures.web import make_release, switch_current

# Any registry access would fail: composer's network is off, npm's registry is a closed port.
OFFLINE = {"COMPOSER_DISABLE_NETWORK": "1", "npm_config_registry": "http://127.0.0.1:9/"}


def _run(argv: list[str], cwd: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **OFFLINE, COMPOSER_HOME=str(tmp_path / "composer-home"))
    env["npm_config_cache"] = str(tmp_path / "npm-cache")
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    return copy_template("laravelish", tmp_path / "checkout")


def test_it_installs_composer_dependencies_offline(checkout, tmp_path):
    argv = ["composer", "install", "--no-dev", "--optimize-autoloader", "--no-interaction"]

    result = _run(argv, checkout, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "App\\\\Release" in (checkout / "vendor/composer/autoload_classmap.php").read_text()


def test_it_runs_npm_ci_and_the_build_offline(checkout, tmp_path):
    install = _run(["npm", "ci", "--no-audit", "--no-fund"], checkout, tmp_path)
    build = _run(["npm", "run", "build"], checkout, tmp_path)

    assert install.returncode == 0, install.stderr
    assert build.returncode == 0, build.stderr
    assert (checkout / "public/build.txt").read_text() == "built version=1.0.0\n"


def test_it_records_artisan_calls_in_storage(checkout, tmp_path):
    for command in (["migrate", "--force"], ["config:cache"], ["queue:restart"]):
        assert _run(["php", "artisan", *command], checkout, tmp_path).returncode == 0

    log = (checkout / "storage/artisan.log").read_text()

    assert log == "migrate --force\nconfig:cache\nqueue:restart\n"


def test_it_runs_artisan_as_an_executable(checkout, tmp_path):
    result = _run(["./artisan", "octane:reload"], checkout, tmp_path)

    assert result.returncode == 0
    assert "Reloading workers" in result.stdout


def test_it_fails_unknown_artisan_commands_and_unforced_migrations(checkout, tmp_path):
    unknown = _run(["php", "artisan", "make:coffee"], checkout, tmp_path)
    unforced = _run(["php", "artisan", "migrate"], checkout, tmp_path)

    assert unknown.returncode != 0 and "not defined" in unknown.stderr
    assert unforced.returncode != 0
    assert (checkout / "storage/artisan.log").read_text() == "make:coffee\nmigrate\n"


@pytest.mark.web
def test_it_serves_slow_php_after_50_ms(tmp_path, web_stack_factory):
    make_release(tmp_path / "site", "20260101000000", app_name="Slow")
    switch_current(tmp_path / "site", "20260101000000")
    stack = web_stack_factory([SiteRoot(tmp_path / "site")])

    status, body = stack.get("/slow.php")

    assert (status, body) == (200, b"release=20260101000000 version=1.0.0 env=Slow\n")


@pytest.mark.web
def test_it_renders_the_demo_page(tmp_path, web_stack_factory):
    release = make_release(tmp_path / "demo", "20260101000000", template="demo")
    (release / "REVISION").write_text("0123456789abcdef0123456789abcdef01234567\n")
    switch_current(tmp_path / "demo", "20260101000000")
    stack = web_stack_factory([SiteRoot(tmp_path / "demo")])

    status, body = stack.get("/")

    expected = "Deploynix demo — release 20260101000000, commit 0123456789abcdef"
    assert status == 200
    assert expected + "0123456789abcdef01234567, version 1.0.0" in body.decode()
