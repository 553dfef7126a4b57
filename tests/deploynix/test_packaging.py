"""The package: pyproject.toml declares what the locks pin, and its wheel holds a whole panel
(the apps, their templates, static files and server-side scripts, and the `deploynix` command)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
APPS = ("tenancy", "servers", "sites", "loadbalancers", "deployments", "webhooks", "schedules",
        "notifications", "deploynix")
NOT_SHIPPED = (".git", ".venv", "var", "build", "tests", "testbed", "bench", "*.egg-info",
               "__pycache__", ".hypothesis", ".ruff_cache")


def name_of(requirement: str) -> str:
    return re.split(r"[\[<>=!~;\s]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def pinned(lock: str) -> set[str]:
    text = (ROOT / "requirements" / lock).read_text()
    return {m.lower() for m in re.findall(r"^([A-Za-z0-9][\w.-]*)==", text, re.M)}


def test_the_runtime_lock_pins_every_declared_dependency():
    assert {name_of(r) for r in PROJECT["dependencies"]} <= pinned("app.txt")


def test_the_dev_lock_pins_the_runtime_pins_and_every_tool_of_the_extras():
    extras = PROJECT["optional-dependencies"]
    tools = {name_of(r) for r in extras["test"] + extras["dev"]}
    assert tools <= pinned("dev.txt")
    assert pinned("app.txt") <= pinned("dev.txt")
    assert "pip-audit" in tools  # make lint audits the locks with it


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel `pip install .` would install, built from a copy of the source tree (pip builds
    it in isolation: it fetches setuptools from the package index, as `pip install .` does)."""
    source = tmp_path_factory.mktemp("source") / "deploynix"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SHIPPED))
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(out), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    return zipfile.ZipFile(next(out.glob("deploynix-*.whl")))


@pytest.mark.slow
def test_the_wheel_holds_every_app_with_its_data_files(wheel):
    names = set(wheel.namelist())
    for app in APPS:
        assert f"{app}/__init__.py" in names
    shipped = {path for path in names if not path.startswith("deploynix-")}
    for path in ROOT.glob("*/**/*"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.split("/")[0] in (*APPS, "templates", "static") and path.is_file() \
                and "__pycache__" not in relative:
            assert relative in shipped, relative
    assert "docs/server-setup.md" in shipped  # the server setup page serves it
    assert not any(path.startswith(("tests/", "testbed/", "bench/")) for path in names)


@pytest.mark.slow
def test_the_wheel_installs_a_deploynix_command(wheel):
    entry_points = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    text = wheel.read(entry_points).decode()
    assert "deploynix = deploynix.__main__:main" in text
    metadata = wheel.read(next(n for n in wheel.namelist() if n.endswith("/METADATA"))).decode()
    assert "Requires-Dist: Django" in metadata and "Provides-Extra: dev" in metadata


def test_the_deploynix_command_runs_management_commands():
    result = subprocess.run([sys.executable, "-m", "deploynix", "check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
