"""The public URL follows the panel's port, in a fresh interpreter with only these variables set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT_LINKS = (
    "from django.conf import settings; "
    "from tenancy.services.invitations import invitation_link; "
    "print(settings.PUBLIC_URL); print(invitation_link('tok'))"
)


def _links(tmp_path: Path, **variables: str) -> list[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEPLOYNIX_ENV": "development",
        "DEPLOYNIX_VAR_DIR": str(tmp_path),
        **variables,
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PRINT_LINKS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-2:]  # the two printed links, after any start-up notes


def test_the_public_url_defaults_to_the_panels_port(tmp_path):
    public, invitation = _links(tmp_path, DEPLOYNIX_PORT="9123")
    assert public == "http://127.0.0.1:9123"
    assert invitation.startswith("http://127.0.0.1:9123/")


def test_a_blank_public_url_means_the_default(tmp_path):
    public, _ = _links(tmp_path, DEPLOYNIX_PORT="9124", DEPLOYNIX_PUBLIC_URL="")
    assert public == "http://127.0.0.1:9124"


def test_an_explicit_public_url_wins_over_the_port(tmp_path):
    public, invitation = _links(
        tmp_path, DEPLOYNIX_PORT="9125", DEPLOYNIX_PUBLIC_URL="https://deploy.example.com/"
    )
    assert public == "https://deploy.example.com"
    assert invitation.startswith("https://deploy.example.com/")


def test_a_port_out_of_range_stops_the_process(tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
           "DEPLOYNIX_VAR_DIR": str(tmp_path), "DEPLOYNIX_PORT": "70000"}
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "DEPLOYNIX_PORT must be <= 65535" in done.stderr
