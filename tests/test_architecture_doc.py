"""docs/architecture.md and docs/pipeline.md name files and scripts: every one must exist."""

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
        top = quoted.split("/", 1)[0]
        # Repository paths start with one of its top-level folders (not `vendor/`, `shared/`:
        # those are places on a server); scripts are named alone.
        if ("/" in quoted and top and (ROOT / top).is_dir()) or re.fullmatch(r"[\w-]+\.sh", quoted):
            names.add(quoted)
    return names


@pytest.mark.parametrize("doc", ["architecture.md", "pipeline.md"])
def test_every_file_the_map_names_exists(doc):
    names = named_paths(doc)
    missing = sorted(
        name for name in names
        if not any(ROOT.glob(name)) and not (SCRIPTS / name).exists()
    )
    assert len(names) >= 20 and missing == []
