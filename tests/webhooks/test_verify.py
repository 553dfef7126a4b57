"""Signature checks (pure): each provider accepts its own signature and refuses everything else."""

from __future__ import annotations

import base64

import pytest

from tests.webhooks.signing import push, signed
from webhooks.verify import SignatureError, verify

SECRET = "s3cret-high-entropy"
PROVIDERS = ("github", "gitlab", "bitbucket", "gitea", "forgejo", "custom")
SIGNATURE_HEADER = {"github": "X-Hub-Signature-256", "gitlab": "X-Gitlab-Token",
                    "bitbucket": "X-Hub-Signature", "gitea": "X-Gitea-Signature",
                    "forgejo": "X-Forgejo-Signature", "custom": "webhook-signature"}


def test_it_verifies_githubs_published_test_vector():
    headers = {"X-Hub-Signature-256":
               "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}
    verify("github", "It's a Secret to Everybody", headers, b"Hello, World!")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_it_accepts_each_providers_signature(provider):
    body, headers = push(provider, SECRET)
    verify(provider, SECRET, headers, body)


# GitLab sends a token, not a signature over the body.
@pytest.mark.parametrize("provider", [p for p in PROVIDERS if p != "gitlab"])
def test_it_refuses_a_changed_body(provider):
    body, headers = push(provider, SECRET)
    with pytest.raises(SignatureError):
        verify(provider, SECRET, headers, body + b" ")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_it_refuses_another_secret(provider):
    body, headers = push(provider, "another secret")
    with pytest.raises(SignatureError):
        verify(provider, SECRET, headers, body)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("value", [None, ""])
def test_it_refuses_a_missing_or_empty_header(provider, value):
    body, headers = push(provider, SECRET)
    headers.pop(SIGNATURE_HEADER[provider])
    if value is not None:
        headers[SIGNATURE_HEADER[provider]] = value
    with pytest.raises(SignatureError):
        verify(provider, SECRET, headers, body)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("secret", [None, ""])
def test_it_refuses_when_no_secret_is_configured(provider, secret):
    body, headers = push(provider, "")
    with pytest.raises(SignatureError, match="no webhook secret"):
        verify(provider, secret, headers, body)


@pytest.mark.parametrize("provider,name", [("github", "X-Hub-Signature-256"),
                                           ("bitbucket", "X-Hub-Signature")])
def test_it_never_accepts_sha1(provider, name):
    import hashlib
    import hmac

    body = b"{}"
    digest = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    with pytest.raises(SignatureError, match="sha256"):
        verify(provider, SECRET, {name: f"sha1={digest}"}, body)


def test_it_refuses_a_sha256_value_without_its_prefix_on_github():
    body, headers = push("github", SECRET)
    headers["X-Hub-Signature-256"] = headers["X-Hub-Signature-256"].removeprefix("sha256=")
    with pytest.raises(SignatureError):
        verify("github", SECRET, headers, body)


def test_it_reads_headers_case_insensitively():
    body, headers = push("github", SECRET)
    verify("github", SECRET, {k.lower(): v for k, v in headers.items()}, body)


def test_it_accepts_a_whsec_secret_for_standard_webhooks():
    secret = "whsec_" + base64.b64encode(b"k" * 24).decode()
    body, headers = push("custom", secret)
    verify("custom", secret, headers, body)


@pytest.mark.parametrize("skew", [-301, 301])
def test_it_refuses_standard_webhooks_outside_five_minutes(skew):
    import time

    body = b'{"type": "push"}'
    headers = signed("custom", SECRET, body, now=int(time.time()) + skew)
    with pytest.raises(SignatureError, match="timestamp"):
        verify("custom", SECRET, headers, body)


def test_it_accepts_any_of_several_standard_signatures():
    body, headers = push("custom", SECRET)
    other_key = "v1," + base64.b64encode(b"\0" * 32).decode()
    headers["webhook-signature"] = f"{other_key} {headers['webhook-signature']}"
    verify("custom", SECRET, headers, body)


def test_it_refuses_a_standard_signature_for_another_message_id():
    body, headers = push("custom", SECRET)
    headers["webhook-id"] = "msg_other"
    with pytest.raises(SignatureError):
        verify("custom", SECRET, headers, body)


def test_it_refuses_unknown_providers():
    with pytest.raises(SignatureError):
        verify("svn", SECRET, {}, b"")
