"""Production settings, checked in a fresh interpreter with only the production variables set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = (
    "DEPLOYNIX_SECRET_KEY",
    "DEPLOYNIX_ENCRYPTION_KEYS",
    "DEPLOYNIX_ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
)


def production_env(var_dir: Path, **overrides: str | None) -> dict[str, str]:
    """A clean environment (nothing inherited from the test run) for DEPLOYNIX_ENV=production."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(var_dir),
        "DEPLOYNIX_ENV": "production",
        "DEPLOYNIX_VAR_DIR": str(var_dir),
        "DEPLOYNIX_SECRET_KEY": "a-production-secret-key-" + "x" * 40,
        "DEPLOYNIX_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DEPLOYNIX_ALLOWED_HOSTS": "deploy.example.com",
        "DATABASE_URL": "postgres://deploynix:secret@127.0.0.1:5432/deploynix",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`python manage.py ARGS` in a new interpreter with exactly `env`."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deployment_checklist(tmp_path):
    result = run_manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", REQUIRED)
def test_it_refuses_to_start_without_a_required_variable(tmp_path, missing):
    result = run_manage(production_env(tmp_path, **{missing: None}), "check", "--deploy")
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_it_reads_a_secret_from_a_file(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("a-secret-from-a-file-" + "y" * 40 + "\n")
    env = production_env(tmp_path, DEPLOYNIX_SECRET_KEY=None)
    env["DEPLOYNIX_SECRET_KEY_FILE"] = str(secret_file)
    result = run_manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
    )
    assert result.stdout.strip() == "a-secret-from-a-file-" + "y" * 40


def test_it_turns_debug_off_and_cookies_secure(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)"
    )
    result = run_manage(production_env(tmp_path), "shell", "--no-imports", "-c", code)
    assert result.stdout.split() == ["False", "True", "True", "True"]
