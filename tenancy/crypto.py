"""Secrets at rest: MultiFernet over settings.ENCRYPTION_KEYS (first key encrypts, all decrypt)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction


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


def encrypted_fields(
    models_: Iterable[type[models.Model]],
) -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    """Every (model, field) pair whose field is encrypted, among concrete models."""
    for model in models_:
        if model._meta.abstract or model._meta.proxy:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


def reencrypt_field(model: type[models.Model], field: EncryptedTextField) -> int:
    """Read every value of `field` (any configured key decrypts) and write it back, which
    encrypts it under the first key. One transaction per field: all rows or none."""
    manager = model._base_manager
    count = 0
    with transaction.atomic():
        rows = manager.select_for_update().exclude(**{f"{field.attname}__isnull": True})
        for pk, value in list(rows.values_list("pk", field.attname)):
            # update(), not save(): no model logic runs, and other fields are untouched.
            manager.filter(pk=pk).update(**{field.attname: value})
            count += 1
    return count
