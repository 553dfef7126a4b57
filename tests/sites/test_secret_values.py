"""Which environment values are secret (sites/secrets.py): redacted in logs, masked on pages."""

from __future__ import annotations

import pytest

from sites.secrets import MASK, env_entries, is_secret, secret_values


@pytest.mark.parametrize("name", [
    "APP_KEY", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD", "MAIL_PASSWORD", "GITHUB_TOKEN",
    "STRIPE_SECRET", "SENTRY_DSN", "JWT_PASSPHRASE", "DBPASSWORD",
])
def test_it_treats_values_of_secret_names_as_secret(name):
    assert is_secret(name, "hunter2-value")


@pytest.mark.parametrize(("name", "value"), [
    ("SESSION_DRIVER", "file"), ("APP_DEBUG", "false"), ("APP_ENV", "production"),
    ("APP_URL", "https://shop.example.com"), ("LOG_CHANNEL", "stack"), ("DB_PORT", "5432"),
    ("DB_PASSWORD", "null"), ("CACHE_KEY", "on"), ("STORAGE_PATH", "/var/www/shop1/storage"),
    ("APP_URL", "https://shop1.example.com"), ("REDIS_HOST", "redis://127.0.0.1:6379"),
    ("DB_HOST", "mysql-primary-01.internal"), ("AWS_BUCKET", "my-app-bucket-2024"),
    ("AWS_ENDPOINT", "s3-eu-west-1.amazonaws.com"),
])
def test_it_never_treats_ordinary_values_as_secret(name, value):
    assert not is_secret(name, value)


def test_it_treats_long_random_values_and_url_passwords_as_secret():
    assert is_secret("SOMETHING", "k3J9xQ2vLp8RtZ4mWc7N")
    assert is_secret("SLACK_URL", "https://hooks.slack.com/services/T1/B2/kP3xW9vQ2mL8tR4zN7cY1bH6")
    assert is_secret("DATABASE_URL", "postgres://shop:s3cret@db/shop")


def test_it_treats_a_variable_the_user_marked_as_secret():
    assert secret_values({"MY_VALUE": "plainword"}, marked=["MY_VALUE"]) == ["plainword"]
    assert secret_values({"MY_VALUE": "plainword"}) == []


def test_it_masks_secret_values_and_hides_plain_ones_without_the_capability():
    env = {"APP_ENV": "production", "DB_PASSWORD": "hunter22"}
    shown = [(e.name, e.value) for e in env_entries(env, show_plain=True)]
    hidden = [(e.name, e.value) for e in env_entries(env, show_plain=False)]
    assert shown == [("APP_ENV", "production"), ("DB_PASSWORD", MASK)]
    assert hidden == [("APP_ENV", MASK), ("DB_PASSWORD", MASK)]
