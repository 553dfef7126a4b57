"""Each provider's signature is accepted only in its documented spelling.

A copy of a real delivery whose signature header was upper-cased, padded or folded with a
second value carries the same HMAC: accepting it would give one delivery several valid
spellings. Every mangled form below is refused, through the real hook URL too.
"""

from __future__ import annotations

import pytest

from tests.webhooks.signing import push
from webhooks.models import WebhookDelivery
from webhooks.verify import SignatureError, verify

SECRET = "s3cret-high-entropy"


def _upper_hex(value: str) -> str:
    scheme, sep, digest = value.rpartition("=") if value.startswith("sha256=") else ("", "", value)
    return f"{scheme}{sep}{digest.upper()}"


MANGLED = {
    "upper-case hex": _upper_hex,
    "leading space": lambda v: f" {v}",
    "trailing space": lambda v: f"{v} ",
    "trailing tab": lambda v: f"{v}\t",
    "folded second value": lambda v: f"{v}, {v}",
}
HEX_HEADERS = {"github": "X-Hub-Signature-256", "bitbucket": "X-Hub-Signature",
               "gitea": "X-Gitea-Signature", "forgejo": "X-Forgejo-Signature"}


@pytest.mark.parametrize("provider", sorted(HEX_HEADERS))
@pytest.mark.parametrize("mangle", sorted(MANGLED))
def test_it_refuses_a_mangled_hex_signature(provider, mangle):
    body, headers = push(provider, SECRET)
    name = HEX_HEADERS[provider]
    headers[name] = MANGLED[mangle](headers[name])
    with pytest.raises(SignatureError):
        verify(provider, SECRET, headers, body)


def test_it_refuses_an_upper_case_sha256_scheme():
    body, headers = push("github", SECRET)
    headers["X-Hub-Signature-256"] = headers["X-Hub-Signature-256"].replace("sha256=", "SHA256=")
    with pytest.raises(SignatureError):
        verify("github", SECRET, headers, body)


@pytest.mark.parametrize("token", [f" {SECRET}", f"{SECRET} ", SECRET.upper(), f"{SECRET}, x",
                                   SECRET[:-1]])
def test_it_compares_the_gitlab_token_exactly(token):
    body, headers = push("gitlab", SECRET)
    headers["X-Gitlab-Token"] = token
    with pytest.raises(SignatureError):
        verify("gitlab", SECRET, headers, body)


STANDARD_MANGLED = {
    "trailing space": lambda s: f"{s} ",
    "two spaces": lambda s: f"v1,{'A' * 43}=  {s}",
    "space after comma": lambda s: s.replace("v1,", "v1, "),
    "comma separated list": lambda s: f"{s},{s}",
    "short v1": lambda s: f"v1,AAAA {s}",
    "url-safe base64": lambda s: s.replace("+", "-").replace("/", "_") if "+" in s or "/" in s
    else s + "-",
}


@pytest.mark.parametrize("mangle", sorted(STANDARD_MANGLED))
def test_it_refuses_a_malformed_standard_signature_list(mangle):
    body, headers = push("custom", SECRET)
    headers["webhook-signature"] = STANDARD_MANGLED[mangle](headers["webhook-signature"])
    with pytest.raises(SignatureError):
        verify("custom", SECRET, headers, body)


@pytest.mark.parametrize("mangle", [lambda t: f" {t}", lambda t: f"+{t}", lambda t: f"{t}.0",
                                    lambda t: f"0000000{t}"])
def test_it_refuses_a_standard_timestamp_not_in_plain_seconds(mangle):
    body, headers = push("custom", SECRET)
    headers["webhook-timestamp"] = mangle(headers["webhook-timestamp"])
    with pytest.raises(SignatureError):
        verify("custom", SECRET, headers, body)


@pytest.mark.django_db
def test_it_answers_401_to_an_upper_case_signature_over_http(deliver, secret):
    body, headers = push("github", secret)
    headers["X-Hub-Signature-256"] = _upper_hex(headers["X-Hub-Signature-256"])
    response = deliver("github", body, headers)
    assert response.status_code == 401
    assert WebhookDelivery.objects.get().signature_ok is False
