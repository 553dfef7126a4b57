"""The deploy log's redaction catches a secret in the forms programs print it in."""

from __future__ import annotations

import base64
import os
from urllib.parse import quote

import pytest

from deployments import redaction
from deployments.sink import DeploymentSink

SECRET = "pa$$w0rd/with+odd=chars&more"
REDACTED = "********"


def Redactor(secrets=()):  # noqa: N802 - reads like the class it stands for
    """The sink's own redaction, as every stored and broadcast line gets it."""
    return DeploymentSink(deployment_id=1, secrets=secrets).redact


def _b64(data: bytes, *, urlsafe: bool = False, pad: bool = True) -> str:
    text = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode()
    return text if pad else text.rstrip("=")


@pytest.mark.parametrize("urlsafe", [False, True])
@pytest.mark.parametrize("pad", [False, True])
def test_it_redacts_the_base64_of_a_secret(urlsafe, pad):
    encoded = _b64(SECRET.encode(), urlsafe=urlsafe, pad=pad)
    out = Redactor([SECRET])(f"APP_KEY=base64:{encoded} done")
    assert encoded.rstrip("=")[:-1] not in out
    assert out.startswith("APP_KEY=base64:" + REDACTED)


@pytest.mark.parametrize("offset", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("urlsafe", [False, True])
def test_it_redacts_a_secret_inside_a_longer_base64_string(offset, urlsafe):
    data = os.urandom(offset) + SECRET.encode() + os.urandom(7)
    encoded = _b64(data, urlsafe=urlsafe)
    out = Redactor([SECRET])(encoded)
    assert REDACTED in out
    # What is left around the mask is at most the 2 characters mixing in neighbouring bytes.
    assert len(out) - len(REDACTED) <= len(encoded) - len(SECRET) * 4 // 3 + 2


@pytest.mark.parametrize("form", [
    quote(SECRET, safe=""), SECRET.encode().hex(), SECRET.encode().hex().upper(), SECRET,
])
def test_it_redacts_url_encoded_and_hex_forms(form):
    assert Redactor([SECRET])(f"value: {form}.") == f"value: {REDACTED}."


def test_it_redacts_the_password_of_any_url():
    line = "fatal: unable to access 'https://x-access-token:ghp_abc123@github.com/acme/shop.git/'"
    assert Redactor()(line) == (
        f"fatal: unable to access 'https://x-access-token:{REDACTED}@github.com/acme/shop.git/'"
    )


def test_it_leaves_other_text_alone():
    line = "Compiled 12 views in public/build (base64 assets: aGVsbG8gd29ybGQ=)"
    assert Redactor([SECRET, "another-secret"])(line) == line


def test_it_masks_a_secret_that_contains_another_whole():
    assert Redactor(["abcd", "abcdefgh"])("x abcdefgh y abcd") == f"x {REDACTED} y {REDACTED}"


def test_the_deployments_of_a_site_build_their_secrets_pattern_once(monkeypatch):
    """Every deployment of a site has the same secrets: the prefix tree is built once per
    worker process, not once per deployment (docs/benchmarks.md, worker cost)."""
    built = []
    real = redaction.trie_pattern
    monkeypatch.setattr(redaction, "trie_pattern", lambda forms: built.append(1) or real(forms))
    secret = f"once-{os.urandom(8).hex()}"
    first = DeploymentSink(deployment_id=1, secrets=[secret])
    second = DeploymentSink(deployment_id=2, secrets=[secret])
    assert len(built) == 1
    assert first.redact(f"x {secret}") == second.redact(f"x {secret}") == "x ********"
