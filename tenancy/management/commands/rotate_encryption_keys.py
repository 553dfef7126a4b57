"""`manage.py rotate_encryption_keys`: re-encrypt every stored secret under the newest key.

Rotation (docs/security.md): put a new key FIRST in DEPLOYNIX_ENCRYPTION_KEYS, keep the old ones
after it, run this command, then drop the old keys. Every EncryptedTextField of every installed
app is found by introspection, so a secret added later is rotated without touching this file.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand

from tenancy.crypto import encrypted_fields, reencrypt_field


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the first key of DEPLOYNIX_ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        total = 0
        for model, field in encrypted_fields(apps.get_models()):
            count = reencrypt_field(model, field)
            total += count
            self.stdout.write(f"{model._meta.label}.{field.name}: {count} re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"{total} secrets now under the newest key."))
