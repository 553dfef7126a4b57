"""The authenticator app of a user (TOTP), its secret encrypted at rest.

django-otp's own TOTPDevice keeps the secret as plain hex in the database; this device is the
same algorithm (django_otp.oath.TOTP, django-otp's throttling and timestamps) with the secret in
an EncryptedTextField (tenancy/crypto.py), so a copy of the database does not hand out the
second factor of every account.
"""

from __future__ import annotations

import os
import time
from base64 import b32encode
from urllib.parse import quote, urlencode

from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from tenancy.crypto import EncryptedTextField

STEP_SECONDS = 30
DIGITS = 6
TOLERANCE_STEPS = 1  # a code from the step before or after is accepted (clock drift)


def new_secret_hex() -> str:
    return os.urandom(20).hex()


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    secret_hex = EncryptedTextField(default=new_secret_hex)
    # The last time step a code was accepted for: a code never passes twice. No drift is
    # learnt from a code accepted at the edge of the tolerance (django-otp's OTP_TOTP_SYNC):
    # one code typed as the step turned would shift the window for good.
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = "authenticator app"

    @property
    def bin_key(self) -> bytes:
        return bytes.fromhex(self.secret_hex)

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token: str) -> bool:
        """True for a right code of a step after the last accepted one (then stored as used)."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        totp = TOTP(self.bin_key, STEP_SECONDS, 0, DIGITS, 0)
        totp.time = time.time()
        verified = token.isdigit() and totp.verify(int(token), TOLERANCE_STEPS, self.last_t + 1)
        if not verified:
            self.throttle_increment(commit=True)
            return False
        # The step of the code that matched (t() counts the matching offset in as drift).
        self.last_t = totp.t()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True

    @property
    def config_url(self) -> str:
        """The otpauth:// URL an authenticator app reads from the QR code."""
        issuer = "Deploynix"
        label = quote(f"{issuer}:{self.user.get_username()}")
        params = urlencode({"secret": b32encode(self.bin_key), "algorithm": "SHA1",
                            "digits": DIGITS, "period": STEP_SECONDS})
        return f"otpauth://totp/{label}?{params}&issuer={quote(issuer)}"
