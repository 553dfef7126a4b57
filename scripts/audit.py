#!/usr/bin/env python3
"""`make lint`'s audit of the locked dependencies: pip-audit over each lock file given.

Fails (exit 1) when a locked pin has a known vulnerability. When the vulnerability service
cannot be reached, or cannot audit some pins (a mirror that does not serve PyPI's JSON API),
it says so loudly, names how many pins went unaudited and why, and exits 0: an audit that did
not happen is reported as skipped, never as passed.

    python scripts/audit.py requirements/app.txt requirements/dev.txt
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def main(locks: list[str]) -> int:
    failed = False
    for lock in locks:
        vulnerable, unaudited = audit(lock)
        for line in vulnerable:
            print(f"audit: {lock}: VULNERABLE {line}")
        if unaudited:
            print(f"audit: {lock}: SKIPPED for {len(unaudited)} pin(s) — the vulnerability service "
                  f"could not audit them here, so they are NOT known to be safe. First: "
                  f"{unaudited[0]}")
        elif not vulnerable:
            print(f"audit: {lock}: no known vulnerabilities")
        failed = failed or bool(vulnerable)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["requirements/app.txt", "requirements/dev.txt"]))
