"""`manage.py rotate_encryption_keys` re-encrypts every secret of every app under the newest key."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from notifications.models import Channel
from tenancy.crypto import encrypted_fields
from tests.fixtures.records import make_site, server  # noqa: F401
from webhooks.secrets import webhook_secret_ensure

pytestmark = pytest.mark.django_db
KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def _every_secret() -> list:
    """Every encrypted value in the database, decrypted with the keys configured now."""
    values = []
    for model, field in encrypted_fields(apps.get_models()):
        values += list(model._base_manager.order_by("pk").values_list(field.attname, flat=True))
    return values


@pytest.fixture
def key_a(settings):
    settings.ENCRYPTION_KEYS = [KEY_A]


@pytest.fixture
def secrets_under_key_a(key_a, make_site):  # noqa: F811
    site = make_site(env={"DB_PASSWORD": "hunter22"}, https_token="ghp_token123")
    webhook_secret_ensure(site=site)
    Channel.objects.create(organization=site.organization, name="hook", kind="webhook",
                           target="https://hooks.example.test/x", secret="whsec_abc")
    return _every_secret()


def test_it_lets_the_old_key_go_after_rotation(settings, secrets_under_key_a):
    settings.ENCRYPTION_KEYS = [KEY_B, KEY_A]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.ENCRYPTION_KEYS = [KEY_B]
    assert _every_secret() == secrets_under_key_a


def test_without_rotation_the_old_key_is_still_needed(settings, secrets_under_key_a):
    settings.ENCRYPTION_KEYS = [KEY_B]
    with pytest.raises(ImproperlyConfigured):
        _every_secret()


def test_it_covers_the_secrets_of_every_app():
    labels = {model._meta.label for model, _ in encrypted_fields(apps.get_models())}
    assert {"sites.Site", "servers.OrganizationKey", "webhooks.WebhookSecret",
            "notifications.Channel"} <= labels
