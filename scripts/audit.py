#!/usr/bin/env python3
"""`make lint`'s audit of the locked dependencies, twice over each lock file given.

1. Offline, always: every pin against `requirements/advisories.json`, the committed snapshot of
   the PyPA advisory database (`make advisories` refreshes it). It needs no network, so a
   vulnerable pin shows up on any machine; it knows advisories up to the snapshot's date, which
   it prints.
2. Online, where reachable: pip-audit against PyPI's JSON API, which knows today's advisories.
   When the service cannot be reached, or cannot audit some pins (a mirror that does not serve
   PyPI's JSON API), it says so loudly and names how many pins went unaudited and why: an audit
   that did not happen is reported as skipped, never as passed.

Fails (exit 1) when either finds a vulnerable pin, or when a pin is missing from the snapshot.

    python scripts/audit.py requirements/app.txt requirements/dev.txt
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from locks import is_affected, pinned  # noqa: E402

SNAPSHOT = Path(__file__).resolve().parent.parent / "requirements" / "advisories.json"

PIP_AUDIT = Path(sys.executable).parent / "pip-audit"
# PyPI's JSON API: the service reachable wherever `pip install` works.
COMMAND = [str(PIP_AUDIT), "--no-deps", "--disable-pip", "--vulnerability-service", "pypi",
           "--format", "json", "--progress-spinner", "off"]


def audit(lock: str) -> tuple[list[str], list[str]]:
    """(vulnerable pins, unaudited pins with the reason) of one lock file."""
    result = subprocess.run([*COMMAND, "-r", lock], capture_output=True, text=True, check=False,
                            timeout=600)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return [], [f"the whole lock: pip-audit could not run ({reason})"]
    vulnerable, unaudited = [], []
    for dep in report["dependencies"]:
        if dep.get("skip_reason"):
            unaudited.append(f"{dep['name']}: {dep['skip_reason']}")
        for vuln in dep.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release"
            vulnerable.append(f"{dep['name']}=={dep['version']}: {vuln['id']} (fixed in {fixed})")
    return vulnerable, unaudited


def audit_offline(lock: str, snapshot: dict) -> tuple[list[str], list[str]]:
    """(vulnerable pins, pins the snapshot does not cover) of one lock file."""
    vulnerable, uncovered = [], []
    for name, version in sorted(pinned(Path(lock)).items()):
        if name not in snapshot["packages"]:
            uncovered.append(name)
            continue
        for advisory in snapshot["packages"][name]:
            if is_affected(version, advisory["affected"]):
                aliases = ", ".join(advisory["aliases"][:2])
                vulnerable.append(f"{name}=={version}: {advisory['id']} ({aliases})")
    return vulnerable, uncovered


def report_offline(lock: str, snapshot: dict) -> bool:
    """Print the offline audit of one lock; whether it failed."""
    vulnerable, uncovered = audit_offline(lock, snapshot)
    for line in vulnerable:
        print(f"audit: {lock}: VULNERABLE {line} (advisory database of {snapshot['date'][:10]})")
    if uncovered:
        print(f"audit: {lock}: {len(uncovered)} pin(s) are not in {SNAPSHOT.name} "
              f"({', '.join(uncovered[:5])}): run `make advisories`")
    if not vulnerable and not uncovered:
        print(f"audit: {lock}: offline, no known vulnerabilities in the PyPA advisory database "
              f"of {snapshot['date'][:10]} ({snapshot['commit'][:12]})")
    return bool(vulnerable or uncovered)


def main(locks: list[str]) -> int:
    snapshot = json.loads(SNAPSHOT.read_text())
    failed = False
    for lock in locks:
        failed = report_offline(lock, snapshot) or failed
        vulnerable, unaudited = audit(lock)
        for line in vulnerable:
            print(f"audit: {lock}: VULNERABLE {line}")
        if unaudited:
            print(f"audit: {lock}: online audit SKIPPED for {len(unaudited)} pin(s) — the "
                  f"vulnerability service could not audit them here, so they are NOT known "
                  f"to be safe. First: "
                  f"{unaudited[0]}")
        elif not vulnerable:
            print(f"audit: {lock}: online, no known vulnerabilities (PyPI)")
        failed = failed or bool(vulnerable)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["requirements/app.txt", "requirements/dev.txt"]))
