"""The pins of a hash-locked requirements file, and OSV's rule for whether a pin is affected.

Shared by `scripts/audit.py` (make lint) and `scripts/advisories.py` (make advisories).
"""

from __future__ import annotations

import re
from pathlib import Path

from packaging.version import InvalidVersion, Version

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def canonical(name: str) -> str:
    """PEP 503's normalized name: the advisory database names its folders so."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(lock: Path) -> dict[str, str]:
    """{canonical name: version} of every `name==version` line of a lock file."""
    return {canonical(name): version for name, version in PIN.findall(lock.read_text())}


def _in_events(version: Version, events: list[dict]) -> bool:
    """OSV ECOSYSTEM events, in order: introduced opens a range, fixed/last_affected closes it."""
    affected = False
    for event in events:
        if "introduced" in event:
            start = event["introduced"]
            if start == "0" or version >= Version(start):
                affected = True
        elif "fixed" in event and affected and version >= Version(event["fixed"]):
            affected = False
        elif "last_affected" in event and affected and version > Version(event["last_affected"]):
            affected = False
    return affected


def is_affected(version: str, affected: list[dict]) -> bool:
    """Whether `version` is listed, or inside a range, of any of an advisory's affected entries."""
    try:
        parsed = Version(version)
    except InvalidVersion:
        return False
    for entry in affected:
        if version in entry["versions"] or any(_listed(parsed, v) for v in entry["versions"]):
            return True
        if _ranges_cover(parsed, entry["events"]):
            return True
    return False


def _listed(version: Version, listed: str) -> bool:
    try:
        return Version(listed) == version
    except InvalidVersion:
        return False


def _ranges_cover(version: Version, events: list[dict]) -> bool:
    """Ranges are separate introduced…fixed pairs; each is judged on its own."""
    pairs, current = [], []
    for event in events:
        if "introduced" in event and current:
            pairs.append(current)
            current = []
        current.append(event)
    if current:
        pairs.append(current)
    try:
        return any(_in_events(version, pair) for pair in pairs)
    except InvalidVersion:
        return False
