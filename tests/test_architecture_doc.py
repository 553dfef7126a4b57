"""docs/architecture.md, docs/pipeline.md and docs/security.md name files, scripts and tests:
every one must exist (a test named as `tests/x.py::test_name` must be defined in that file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SCRIPTS = ROOT / "deployments" / "pipeline" / "scripts"


def named_paths(doc: str) -> set[str]:
    """`a/b.py`, `a/b/` and `x.sh` style names inside backticks (first word of each)."""
    names = set()
    for quoted in re.findall(r"`([^`\s]+)", (ROOT / "docs" / doc).read_text()):
        quoted = quoted.split("[", 1)[0]  # a parametrized test's id
        top = quoted.split("/", 1)[0]
        # Repository paths start with one of its top-level folders (not `vendor/`, `shared/`:
        # those are places on a server); scripts are named alone.
        if ("/" in quoted and top and (ROOT / top).is_dir()) or re.fullmatch(r"[\w-]+\.sh", quoted):
            names.add(quoted)
    return names


def exists(name: str) -> bool:
    path, _, test = name.partition("::")
    if test:
        file = ROOT / path
        function = test.split("::")[-1]
        return file.is_file() and re.search(rf"\b(def|class) {function}\b", file.read_text())
    return any(ROOT.glob(path)) or (SCRIPTS / path).exists()


@pytest.mark.parametrize("doc", ["architecture.md", "pipeline.md", "security.md"])
def test_every_file_the_map_names_exists(doc):
    names = named_paths(doc)
    missing = sorted(name for name in names if not exists(name))
    assert len(names) >= 20 and missing == []


def test_a_named_test_that_does_not_exist_is_missing():
    this_file = "tests/test_architecture_doc.py"
    assert exists(f"{this_file}::test_a_named_test_that_does_not_exist_is_missing")
    assert not exists(f"{this_file}::test_nothing_of_the_kind")
