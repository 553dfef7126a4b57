"""Sign deliveries the way each provider does (test helper, independent of verify.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

SHA = "a" * 40


def _hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(provider: str, *, ref: str = "refs/heads/main", after: str = SHA,
            repository: str = "acme/app") -> dict:
    """A minimal push payload in `provider`'s shape."""
    if provider in ("github", "gitea", "forgejo"):
        return {"ref": ref, "after": after, "repository": {"full_name": repository}}
    if provider == "gitlab":
        kind = "tag_push" if str(ref).startswith("refs/tags/") else "push"
        return {"object_kind": kind, "ref": ref, "after": after,
                "project": {"path_with_namespace": repository}}
    if provider == "bitbucket":
        kind, _, name = str(ref).removeprefix("refs/").partition("/")
        side = {"type": {"heads": "branch", "tags": "tag"}[kind], "name": name,
                "target": {"hash": after}}
        change = {"new": None if set(after) == {"0"} else side, "old": side}
        return {"push": {"changes": [change]}, "repository": {"full_name": repository}}
    return {"type": "push", "data": {"ref": ref, "after": after, "repository": repository}}


def signed(provider: str, secret: str, body: bytes, *, delivery: str | None = None,
           event: str = "push", now: int | None = None) -> dict[str, str]:
    """The headers `provider` would send with `body` (HTTP header names, as a client sends)."""
    delivery = delivery or str(uuid.uuid4())
    if provider == "github":
        return {"X-Hub-Signature-256": "sha256=" + _hex(secret, body),
                "X-GitHub-Event": event, "X-GitHub-Delivery": delivery}
    if provider == "gitlab":
        return {"X-Gitlab-Token": secret, "X-Gitlab-Event": "Push Hook",
                "X-Gitlab-Event-UUID": delivery}
    if provider == "bitbucket":
        return {"X-Hub-Signature": "sha256=" + _hex(secret, body),
                "X-Event-Key": "repo:push" if event == "push" else event,
                "X-Request-UUID": delivery}
    if provider == "gitea":
        return {"X-Gitea-Signature": _hex(secret, body), "X-Gitea-Event": event,
                "X-Gitea-Delivery": delivery}
    if provider == "forgejo":
        return {"X-Forgejo-Signature": _hex(secret, body), "X-Forgejo-Event": event,
                "X-Forgejo-Delivery": delivery}
    stamp = str(now if now is not None else int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_")) if secret.startswith("whsec_") \
        else secret.encode()
    mac = hmac.new(key, f"{delivery}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {"webhook-id": delivery, "webhook-timestamp": stamp,
            "webhook-signature": "v1," + base64.b64encode(mac).decode()}


def push(provider: str, secret: str, **kwargs) -> tuple[bytes, dict[str, str]]:
    """A signed push delivery: (body, headers)."""
    delivery = kwargs.pop("delivery", None)
    body = json.dumps(payload(provider, **kwargs)).encode()
    return body, signed(provider, secret, body, delivery=delivery)
