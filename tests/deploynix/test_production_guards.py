"""Production refuses to start with settings that turn a protection off (deploynix/guards.py)."""

from __future__ import annotations

import pytest

from tests.deploynix.test_settings_production import production_env, run_manage

REFUSED = [
    ({"DEPLOYNIX_ALLOWED_HOSTS": "*"}, "DEPLOYNIX_ALLOWED_HOSTS may not contain '*'"),
    ({"DEPLOYNIX_ALLOWED_HOSTS": "deploy.example.com,*"}, "may not contain '*'"),
    ({"DEPLOYNIX_DEBUG": "true"}, "DEPLOYNIX_DEBUG must be off in production"),
    ({"DEPLOYNIX_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"},
     "does not send mail"),
    ({"DEPLOYNIX_ENCRYPTION_KEYS": "not-a-fernet-key"},
     "DEPLOYNIX_ENCRYPTION_KEYS: key 1 of 1 is not a Fernet key"),
]


@pytest.mark.parametrize(("overrides", "message"), REFUSED)
def test_it_refuses_to_start_with_an_unsafe_setting(tmp_path, overrides, message):
    result = run_manage(production_env(tmp_path, **overrides), "check")
    assert result.returncode != 0
    assert message in result.stderr


def test_it_names_the_bad_key_among_several(tmp_path):
    good = production_env(tmp_path)["DEPLOYNIX_ENCRYPTION_KEYS"]
    env = production_env(tmp_path, DEPLOYNIX_ENCRYPTION_KEYS=f"{good},{good[:-4]}")
    result = run_manage(env, "check")
    assert "key 2 of 2 is not a Fernet key" in result.stderr


def test_it_sends_mail_over_smtp_by_default(tmp_path):
    code = "from django.conf import settings; print(settings.EMAIL_BACKEND)"
    result = run_manage(production_env(tmp_path), "shell", "--no-imports", "-c", code)
    assert result.stdout.strip() == "django.core.mail.backends.smtp.EmailBackend"
