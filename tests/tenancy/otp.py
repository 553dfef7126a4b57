"""TOTP codes computed by the tests themselves (RFC 6238), from the secret a user is shown.

Independent of django-otp on purpose: a test that enrols with these codes checks the library's
side too. `steps_ahead=1` gives the next 30-second code, which the server still accepts (one step
of tolerance) but has not seen: a code is refused a second time within its step.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

from tenancy.models import AuthenticatorDevice


def totp_code(secret: bytes, *, steps_ahead: int = 0, at: float | None = None) -> str:
    counter = int((time.time() if at is None else at) // 30) + steps_ahead
    digest = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def secret_from_text(shown: str) -> bytes:
    """The key from its grouped base32 form as the set-up page shows it."""
    text = shown.replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def pending_secret(user) -> bytes:
    return AuthenticatorDevice.objects.get(user=user, confirmed=False).bin_key


def confirmed_secret(user) -> bytes:
    return AuthenticatorDevice.objects.get(user=user, confirmed=True).bin_key
