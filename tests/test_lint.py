"""`make lint` as a test, because CI runs only `make test`: ruff over the tree, shellcheck over
every shell script of the apps and scripts/ (the same two checks as the Makefile's lint)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Not ours: the virtualenv, runtime files, installed packages (the Makefile's SHELL_SCRIPTS).
SKIPPED = {".venv", "var", "node_modules", ".git"}


def shell_scripts(root: Path = ROOT) -> list[Path]:
    """Every *.sh under `root` outside SKIPPED, sorted."""
    return sorted(
        path for path in root.rglob("*.sh")
        if not SKIPPED & set(path.relative_to(root).parts)
    )  # fmt: skip


def findings(argv: list[str]) -> str:
    """The output of a checker run in the repository root; empty when it found nothing."""
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return "" if result.returncode == 0 else result.stdout + result.stderr


def test_ruff_finds_nothing_in_the_tree():
    ruff = Path(sys.executable).with_name("ruff")

    assert findings([str(ruff), "check", "--output-format", "concise", "."]) == ""


def test_shellcheck_finds_nothing_in_the_shell_scripts():
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.fail("shellcheck is missing: scripts/test.sh installs the Debian package")
    scripts = [str(path.relative_to(ROOT)) for path in shell_scripts()]

    assert "deployments/pipeline/scripts/fence.sh" in scripts
    assert "servers/stack/scripts/fpm_binaries.sh" in scripts
    assert "scripts/lib.sh" in scripts
    assert findings([shellcheck, "-x", *scripts]) == ""


# Modules whose shell moved to scripts/*.sh; positional parameters in their text would mean a
# script grew back inside Python.
SCRIPTS_AS_FILES = (
    "deployments/pipeline/commands.py", "deployments/pipeline/facts.py",
    "deployments/pipeline/git.py", "deployments/pipeline/inventory.py",
    "deployments/pipeline/lock.py", "servers/stack/probe.py", "servers/ssh/job.py",
    "deployments/pipeline/session.py",
)  # fmt: skip


@pytest.mark.parametrize("module", SCRIPTS_AS_FILES)
def test_no_shell_script_lives_in_python(module):
    text = (ROOT / module).read_text()

    assert not re.search(r"\$(?:[1-9#@]|\{)", text), f"{module} holds shell; move it to a .sh file"
