#!/usr/bin/env python3
"""`make advisories`: the offline vulnerability snapshot that `make lint` audits the locks against.

Reads the PyPA advisory database (OSV records, one YAML file per advisory under
`vulns/<package>/`) from a checkout or a bare git directory and keeps, for every package pinned in
the given lock files, its advisories' ids, aliases and affected ranges. The result,
`requirements/advisories.json`, is committed: an audit that needs no network still knows every
advisory published up to the snapshot's date, and says which date that is.

    python scripts/advisories.py var/advisory-database requirements/app.txt requirements/dev.txt
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from locks import canonical, pinned  # noqa: E402

SNAPSHOT = Path(__file__).resolve().parent.parent / "requirements" / "advisories.json"


class Database:
    """The advisory database, as a work tree or as a bare git directory."""

    def __init__(self, path: Path):
        self.path = path
        self.bare = not (path / "vulns").is_dir()

    def git(self, *args: str) -> str:
        flag = f"--git-dir={self.path}" if self.bare else f"--git-dir={self.path / '.git'}"
        return subprocess.run(["git", flag, *args], capture_output=True, text=True,
                              check=True).stdout

    def revision(self) -> tuple[str, str]:
        """(commit, its date) of the snapshot."""
        commit, date = self.git("log", "-1", "--format=%H %cI").split()
        return commit, date

    def advisories(self, package: str) -> list[dict]:
        names = self.git("ls-tree", "--name-only", "HEAD", f"vulns/{package}/").split()
        return [yaml.safe_load(self.git("show", f"HEAD:{name}")) for name in names
                if name.endswith(".yaml")]


def affected_ranges(record: dict, package: str) -> list[dict]:
    """The record's ECOSYSTEM ranges and explicit versions for this package."""
    kept = []
    for affected in record.get("affected", []):
        if canonical(affected["package"]["name"]) != package:
            continue
        events = [event for r in affected.get("ranges", []) if r["type"] == "ECOSYSTEM"
                  for event in r["events"]]
        # The explicit list only where no version range says it (it repeats the ranges, and
        # would make the snapshot ten times bigger).
        versions = [] if events else [str(v) for v in affected.get("versions", [])]
        kept.append({"events": events, "versions": versions})
    return kept


def build(database: Database, packages: set[str]) -> dict:
    commit, date = database.revision()
    advisories = {}
    for package in sorted(packages):
        records = database.advisories(package)
        advisories[package] = [
            {"id": r["id"], "aliases": r.get("aliases", []),
             "affected": affected_ranges(r, package)}
            for r in records if not r.get("withdrawn")
        ]
    return {"source": "https://github.com/pypa/advisory-database", "commit": commit,
            "date": date, "packages": advisories}


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    database, locks = Database(Path(argv[0])), argv[1:]
    packages = {name for lock in locks for name in pinned(Path(lock))}
    snapshot = build(database, packages)
    SNAPSHOT.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n")
    count = sum(len(v) for v in snapshot["packages"].values())
    print(f"advisories: {count} advisories for {len(packages)} packages, "
          f"database of {snapshot['date']} ({snapshot['commit'][:12]}) → {SNAPSHOT.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
