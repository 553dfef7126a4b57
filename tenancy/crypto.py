"""Secrets at rest: MultiFernet over settings.ENCRYPTION_KEYS (first key encrypts, all decrypt)."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "DEPLOYNIX_ENCRYPTION_KEYS must be comma-separated Fernet keys "
            "(python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with DEPLOYNIX_ENCRYPTION_KEYS; "
            "was a key removed before re-encryption?"
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt `token` under the first (newest) key."""
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A TextField whose value is stored Fernet-encrypted; Python code sees plaintext."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)
