"""`make lint`'s offline audit: the locks against the committed PyPA advisory snapshot."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from locks import is_affected, pinned  # noqa: E402


def _load_audit():
    spec = importlib.util.spec_from_file_location("audit_script", ROOT / "scripts" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


audit = _load_audit()
SNAPSHOT = json.loads((ROOT / "requirements" / "advisories.json").read_text())


@pytest.mark.parametrize("lock", ["app.txt", "dev.txt"])
def test_the_snapshot_covers_every_locked_pin(lock):
    """A new or renamed dependency without `make advisories` would go unaudited offline."""
    assert set(pinned(ROOT / "requirements" / lock)) <= set(SNAPSHOT["packages"])


@pytest.mark.parametrize("lock", ["app.txt", "dev.txt"])
def test_the_locks_have_no_known_vulnerability_in_the_snapshot(lock):
    vulnerable, uncovered = audit.audit_offline(str(ROOT / "requirements" / lock), SNAPSHOT)
    assert (vulnerable, uncovered) == ([], [])


def test_a_vulnerable_pin_is_named_with_its_advisory(tmp_path):
    # Django 4.2.14 is affected by CVE-2024-42005 (fixed in 4.2.15), cryptography 41.0.5 by
    # CVE-2023-49083 (fixed in 41.0.6): both are in the committed snapshot.
    lock = tmp_path / "old.txt"
    lock.write_text("Django==4.2.14 \\\n    --hash=sha256:00\ncryptography==41.0.6\n")
    vulnerable, uncovered = audit.audit_offline(str(lock), SNAPSHOT)
    assert uncovered == []
    assert any(line.startswith("django==4.2.14: ") and "CVE-2024-42005" in line
               for line in vulnerable)
    assert not any(line.startswith("cryptography") for line in vulnerable)
    assert audit.report_offline(str(lock), SNAPSHOT) is True


def test_a_pin_missing_from_the_snapshot_fails_the_audit(tmp_path, capsys):
    lock = tmp_path / "new.txt"
    lock.write_text("django==5.2.1\nsome-new-package==1.0\n")
    assert audit.report_offline(str(lock), SNAPSHOT) is True
    assert "some-new-package" in capsys.readouterr().out


@pytest.mark.parametrize(("version", "expected"), [
    ("1.0", False), ("2.0", True), ("2.5", True), ("3.0", False),  # 2.0 up to 3.0
    ("5.0", True), ("5.1", True), ("5.1.1", False),  # 5.0 up to and including 5.1
    ("0.9", False), ("4.0", False),
])
def test_osv_ranges_are_judged_pair_by_pair(version, expected):
    affected = [{"versions": [], "events": [
        {"introduced": "5.0"}, {"last_affected": "5.1"},
        {"introduced": "2.0"}, {"fixed": "3.0"},
    ]}]
    assert is_affected(version, affected) is expected


def test_an_open_range_and_an_explicit_version_list():
    assert is_affected("0.1", [{"versions": [], "events": [{"introduced": "0"}]}])
    listed = [{"versions": ["1.2", "1.3"], "events": []}]
    assert is_affected("1.3.0", listed) and not is_affected("1.4", listed)
