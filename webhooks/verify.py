"""Webhook signature checks, one per provider, over the EXACT raw body. No Django here.

Every check runs before the body is parsed, compares in constant time (`hmac.compare_digest`)
and refuses by raising SignatureError: no secret, a missing or empty header, another scheme
(SHA-1 is never accepted), or a wrong value. Each header must have exactly the provider's
documented form (FORMS): no upper-case hex, no padding, no second value folded in, so one
signature has one spelling and a mangled copy of a delivery is not a second valid one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping

# Standard Webhooks: a delivery older or newer than this is refused (replay protection).
TOLERANCE_SECONDS = 5 * 60

# The documented form of each signature header, matched in full against the raw value.
HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
PREFIXED_SHA256 = re.compile(r"sha256=[0-9a-f]{64}")
# Standard Webhooks: space-separated `<version>,<base64>`; a v1 HMAC-SHA256 is 44 characters.
STANDARD_ENTRY = re.compile(r"v[0-9]+[a-z]*,[A-Za-z0-9+/]+={0,2}")
STANDARD_V1 = re.compile(r"v1,[A-Za-z0-9+/]{43}=")
STANDARD_TIMESTAMP = re.compile(r"[0-9]{1,12}")
MAX_SIGNATURES = 10


class SignatureError(Exception):
    """The delivery is not signed by the secret we hold; the message is the reason."""


def header(headers: Mapping[str, str], name: str) -> str:
    """A header value looked up case-insensitively, exactly as sent ("" when absent)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value or ""
    return ""


def _required(headers: Mapping[str, str], name: str) -> str:
    value = header(headers, name)
    if not value:
        raise SignatureError(f"missing {name} header")
    return value


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _same(expected: bytes, presented: str | bytes) -> bool:
    presented = presented.encode("utf-8", "replace") if isinstance(presented, str) else presented
    return hmac.compare_digest(expected, presented)


def _prefixed_hex(value: str, name: str) -> str:
    """The hex part of `sha256=<64 lower-case hex>`; any other scheme or spelling is refused."""
    if not value.startswith("sha256="):
        raise SignatureError(f"{name} must use sha256=")
    if not PREFIXED_SHA256.fullmatch(value):
        raise SignatureError(f"{name} is not sha256= and 64 lower-case hex digits")
    return value.removeprefix("sha256=")


def verify_github(secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`."""
    name = "X-Hub-Signature-256"
    digest = _prefixed_hex(_required(headers, name), name)
    if not _same(_hmac_sha256(secret.encode(), body).hex().encode(), digest):
        raise SignatureError("signature does not match")


def verify_bitbucket(secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """Bitbucket Cloud: `X-Hub-Signature: sha256=<hex>`."""
    name = "X-Hub-Signature"
    digest = _prefixed_hex(_required(headers, name), name)
    if not _same(_hmac_sha256(secret.encode(), body).hex().encode(), digest):
        raise SignatureError("signature does not match")


def verify_gitlab(secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """GitLab sends the shared secret itself in `X-Gitlab-Token` (no signature over the body):
    compared in constant time, byte for byte (no trimming, no case folding)."""
    if not _same(secret.encode(), _required(headers, "X-Gitlab-Token")):
        raise SignatureError("token does not match")


def _bare_hex(names: tuple[str, ...]) -> Callable[[str, Mapping[str, str], bytes], None]:
    def verify(secret: str, headers: Mapping[str, str], body: bytes) -> None:
        presented = next((header(headers, n) for n in names if header(headers, n)), "")
        if not presented:
            raise SignatureError(f"missing {names[0]} header")
        if not HEX_SHA256.fullmatch(presented):
            raise SignatureError(f"{names[0]} is not 64 lower-case hex digits")
        if not _same(_hmac_sha256(secret.encode(), body).hex().encode(), presented):
            raise SignatureError("signature does not match")

    verify.__doc__ = f"`{names[0]}: <hex HMAC-SHA256(secret, body)>`."
    return verify


verify_gitea = _bare_hex(("X-Gitea-Signature",))
# Forgejo sends its own header and, for compatibility, Gitea's.
verify_forgejo = _bare_hex(("X-Forgejo-Signature", "X-Gitea-Signature"))


def standard_webhooks_key(secret: str) -> bytes:
    """The HMAC key: `whsec_<base64>` decodes to bytes; any other secret is used as is."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            raise SignatureError("secret is not valid whsec_ base64") from None
    return secret.encode()


def verify_standard(
    secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None
) -> None:
    """Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256("{id}.{ts}.{body}")>`.

    Several signatures may be sent, separated by single spaces (key rotation); one match is
    enough. Every entry must be `<version>,<base64>` and every v1 entry a 44-character base64
    HMAC. A timestamp (seconds, digits only) more than TOLERANCE_SECONDS away is refused.
    """
    msg_id = _required(headers, "webhook-id")
    stamp = _required(headers, "webhook-timestamp")
    signatures = _required(headers, "webhook-signature")
    if not STANDARD_TIMESTAMP.fullmatch(stamp):
        raise SignatureError("webhook-timestamp is not a number of seconds")
    if abs((time.time() if now is None else now) - int(stamp)) > TOLERANCE_SECONDS:
        raise SignatureError("webhook-timestamp is too far from now")
    signed = f"{msg_id}.{stamp}.".encode() + body
    expected = base64.b64encode(_hmac_sha256(standard_webhooks_key(secret), signed))
    presented = [entry.removeprefix("v1,") for entry in _standard_entries(signatures)
                 if entry.startswith("v1,")]
    if not presented:
        raise SignatureError("webhook-signature has no v1 signature")
    # Compare against every candidate (no early exit) so timing does not reveal which matched.
    matches = [_same(expected, candidate) for candidate in presented]
    if not any(matches):
        raise SignatureError("signature does not match")


def _standard_entries(signatures: str) -> list[str]:
    """The entries of a webhook-signature header; SignatureError for any malformed one."""
    entries = signatures.split(" ")
    if len(entries) > MAX_SIGNATURES:
        raise SignatureError("webhook-signature has too many signatures")
    for entry in entries:
        if not STANDARD_ENTRY.fullmatch(entry):
            raise SignatureError("webhook-signature is not a list of <version>,<base64>")
        if entry.startswith("v1,") and not STANDARD_V1.fullmatch(entry):
            raise SignatureError("webhook-signature has a malformed v1 signature")
    return entries


VERIFIERS: dict[str, Callable[..., None]] = {
    "github": verify_github,
    "gitlab": verify_gitlab,
    "bitbucket": verify_bitbucket,
    "gitea": verify_gitea,
    "forgejo": verify_forgejo,
    "custom": verify_standard,
}


def verify(provider: str, secret: str | None, headers: Mapping[str, str], body: bytes) -> None:
    """Raise SignatureError unless `body` is signed for `provider` with `secret`."""
    if not secret:
        raise SignatureError("no webhook secret is configured")
    check = VERIFIERS.get(provider)
    if check is None:
        raise SignatureError(f"unknown provider {provider!r}")
    check(secret, headers, body)
