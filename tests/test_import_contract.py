"""The import contract (.importlinter) holds, and it would catch an import up a layer or a cycle.

Runs the real `lint-imports` over the project, then over a tiny project of the same layers in
a temporary directory that breaks them, so a contract that cannot fail is noticed too.
"""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACT = ROOT / ".importlinter"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    # --no-cache: no cache directory is left in the work tree.
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin"})


def test_the_project_keeps_the_import_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


def write_project(root: Path, imports: dict[str, str]) -> None:
    """One package per app of the contract, `module.py` in each importing what `imports` says."""
    contract = configparser.ConfigParser()
    contract.read(CONTRACT)
    for section in contract.sections():
        contract.remove_option(section, "ignore_imports")
    with open(root / ".importlinter", "w") as out:
        contract.write(out)
    for app in contract["importlinter"]["root_packages"].split():
        package = root / app
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "other.py").write_text("")
        (package / "module.py").write_text(imports.get(app, ""))


def test_the_contract_refuses_an_import_up_a_layer(tmp_path):
    write_project(tmp_path, {"tenancy": "import servers.module\n"})
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "tenancy is not allowed to import servers" in result.stdout


def test_the_contract_refuses_an_import_between_webhooks_and_schedules(tmp_path):
    write_project(tmp_path, {"schedules": "import webhooks.module\n"})
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "schedules is not allowed to import webhooks" in result.stdout


def test_the_contract_refuses_a_cycle_inside_an_app(tmp_path):
    write_project(tmp_path, {"deployments": "import deployments.other\n"})
    (tmp_path / "deployments" / "other.py").write_text("import deployments.module\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "of an app BROKEN" in " ".join(result.stdout.split())
