"""What the deploy log redacts for a site: its secrets only, never ordinary values."""

from __future__ import annotations

import pytest

from deployments.context_builder import context_secrets
from webhooks.secrets import webhook_secret_ensure

pytestmark = pytest.mark.django_db

ENV = {
    "SESSION_DRIVER": "file", "APP_DEBUG": "false", "APP_ENV": "production",
    "DB_PASSWORD": "hunter22", "FLAGGED": "plainword",
}


def test_it_redacts_secret_values_and_not_ordinary_ones(make_site):
    secrets = context_secrets(make_site(env=ENV))
    assert "hunter22" in secrets and "plainword" not in secrets
    assert not {"file", "false", "production"} & set(secrets)


def test_it_redacts_the_values_the_user_marked_secret(make_site):
    site = make_site(env=ENV, secret_env_names=["FLAGGED"])
    assert "plainword" in context_secrets(site)


def test_it_redacts_the_deploy_key_token_and_webhook_secret(make_site):
    site = make_site(https_token="ghp_tokenvalue123")
    webhook = webhook_secret_ensure(site=site)
    secrets = context_secrets(site)
    key_body = [line for line in site.deploy_key_private.splitlines() if "-----" not in line]
    assert "ghp_tokenvalue123" in secrets and webhook in secrets
    assert key_body and set(key_body) <= set(secrets)
