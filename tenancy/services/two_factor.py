"""Two-factor authentication: enrol a TOTP app (confirmed by a code), recovery codes, disable.

The app is our AuthenticatorDevice (tenancy/models/devices.py: django-otp's algorithm and
throttle, the secret encrypted at rest); recovery codes live in a StaticDevice as digests
(`tenancy.two_factor.recovery_code_digest`), each deleted when used.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from tenancy.audit import Actor, audit_record
from tenancy.models import AuthenticatorDevice, User
from tenancy.two_factor import recovery_code_digest

RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed by hand
CODE_MAX_LENGTH = 40


def _recovery_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))  # about 79 bits
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def totp_pending(user: User) -> AuthenticatorDevice:
    """The unconfirmed TOTP device being set up (created once; reloads show the same secret)."""
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=False).first()
    return device or AuthenticatorDevice.objects.create(
        user=user, name="Authenticator", confirmed=False
    )


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=recovery_code_digest(code)) for code in codes
    )
    return codes


@transaction.atomic
def two_factor_enable(*, actor: Actor, user: User, code: str) -> list[str]:
    """Confirm the pending TOTP device with a code from the app; the new recovery codes. Audited."""
    pending = AuthenticatorDevice.objects.select_for_update().filter(user=user, confirmed=False)
    device = pending.first()
    if device is None:
        raise ValidationError("Start the set-up again: no authenticator is waiting for a code.")
    if not device.verify_token(code.strip()[:CODE_MAX_LENGTH]):
        raise ValidationError("That code is not right. Check the time on your phone and retry.")
    AuthenticatorDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    audit_record(actor=actor, organization=None, verb="account.two_factor_enable", target=user)
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, actor: Actor, user: User) -> list[str]:
    """Replace every recovery code (the old ones stop working). Audited."""
    codes = _new_recovery_codes(user)
    audit_record(actor=actor, organization=None, verb="account.recovery_codes_regenerate",
                 target=user)
    return codes


@transaction.atomic
def two_factor_disable(*, actor: Actor, user: User) -> None:
    """Remove the authenticator and the recovery codes (the caller checked the password).

    Audited.
    """
    AuthenticatorDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(actor=actor, organization=None, verb="account.two_factor_disable", target=user)


def two_factor_verify(*, actor: Actor, user: User, code: str) -> bool:
    """Check a log-in code: six digits from the app, or an unused recovery code (then spent).

    The device row is locked while it checks, so one code cannot pass twice at once. A refused
    code commits too: django-otp's throttle (a growing delay after each wrong code, per device)
    must be stored.
    """
    code = code.strip()[:CODE_MAX_LENGTH]
    model = AuthenticatorDevice if code.isdigit() else StaticDevice
    token = code if code.isdigit() else recovery_code_digest(code)
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None or not device.verify_token(token):
            return False
        if model is StaticDevice:
            audit_record(actor=actor, organization=None, verb="account.recovery_code_use",
                         target=user, after={"left": device.token_set.count()})
    return True
