"""docs/reliability.md names the tests that prove each guarantee: each of them must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "reliability.md"


def cited() -> list[tuple[str, str]]:
    """(test file, test name or "") for every `tests/...py[::name]` and `::name` citation; a
    bare `::name` belongs to the file cited last before it."""
    found, last_file = [], ""
    for match in re.finditer(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`", DOC.read_text()):
        path, name = match.group(1) or "", match.group(2) or ""
        if path:
            last_file = path
        if path or name:
            found.append((path or last_file, name))
    return found


def test_every_test_the_reliability_page_cites_exists():
    citations = cited()
    missing = [
        f"{path}::{name}" for path, name in citations
        if not (ROOT / path).is_file()
        or (name and not re.search(rf"^(async )?def {name}\(", (ROOT / path).read_text(), re.M))
    ]
    assert len(citations) >= 20 and missing == []
