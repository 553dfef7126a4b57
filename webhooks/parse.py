"""Turn a verified delivery into a PushEvent, and decide what it means for a site. No Django.

Call only AFTER verify(): parsing untrusted JSON from anyone would be work for an attacker.
PayloadError means a malformed delivery (answered 400); a well-formed push that should not
deploy becomes Decision(deploy=False, reason=...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from webhooks.verify import header

# Full SHA-1 object names only: the deployment service deploys exactly such a commit.
ZERO_SHA = re.compile(r"0{40}")
SHA = re.compile(r"[0-9a-f]{40}")
# git check-ref-format, the parts that matter: no control characters, spaces, ~^:?*[\ or "..",
# no "@{", no component starting with "." or ending with ".lock", no trailing "/" or ".".
REF = re.compile(r"refs/(?!.*\.\.)(?!.*@\{)(?!.*//)(?:[^\x00-\x20\x7f~^:?*\[\\]+)")


class PayloadError(Exception):
    """The delivery is not a well-formed event of its provider (answered 400)."""


@dataclass(frozen=True)
class RefUpdate:
    ref: str  # refs/heads/main, refs/tags/v1, ...
    after: str  # the new SHA; all zeros when the ref was deleted


@dataclass(frozen=True)
class PushEvent:
    event: str  # the provider's event name: "push", "ping", "Push Hook", "repo:push", ...
    delivery_id: str
    is_push: bool
    repositories: frozenset[str]  # identifiers the payload names (URLs, owner/name)
    updates: tuple[RefUpdate, ...]


@dataclass(frozen=True)
class Decision:
    deploy: bool
    reason: str  # "ignored: branch develop", ... ("" when deploying)
    branch: str = ""
    commit: str = ""


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("body is not JSON") from None
    if not isinstance(data, dict):
        raise PayloadError("body is not a JSON object")
    return data


def _update(ref: Any, after: Any) -> RefUpdate:
    """A validated ref update; PayloadError for a malformed ref or SHA."""
    if not isinstance(ref, str) or not REF.fullmatch(ref) or ref.endswith(("/", ".", ".lock")):
        raise PayloadError(f"malformed ref {str(ref)[:80]!r}")
    if any(part.startswith(".") or part.endswith(".lock") for part in ref.split("/")):
        raise PayloadError(f"malformed ref {ref[:80]!r}")
    if not isinstance(after, str) or not SHA.fullmatch(after.lower()):
        raise PayloadError(f"malformed commit SHA {str(after)[:80]!r}")
    return RefUpdate(ref=ref, after=after.lower())


def _ids(*values: Any) -> frozenset[str]:
    return frozenset(v for v in values if isinstance(v, str) and v)


def _dig(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def parse_github(headers: Mapping[str, str], body: bytes) -> PushEvent:
    """GitHub (and Gitea/Forgejo, which send the same push payload)."""
    return _github_shaped(header(headers, "X-GitHub-Event"),
                          header(headers, "X-GitHub-Delivery"), body)


def _github_shaped(event: str, delivery: str, body: bytes) -> PushEvent:
    data = _json(body)
    repo = data.get("repository") or {}
    ids = _ids(_dig(repo, "full_name"), _dig(repo, "clone_url"), _dig(repo, "ssh_url"),
               _dig(repo, "html_url"), _dig(repo, "git_url"))
    if event != "push":
        return PushEvent(event, delivery, False, ids, ())
    return PushEvent(event, delivery, True, ids, (_update(data.get("ref"), data.get("after")),))


def parse_gitea(headers: Mapping[str, str], body: bytes) -> PushEvent:
    return _github_shaped(header(headers, "X-Gitea-Event"), header(headers, "X-Gitea-Delivery"),
                          body)


def parse_forgejo(headers: Mapping[str, str], body: bytes) -> PushEvent:
    event = header(headers, "X-Forgejo-Event") or header(headers, "X-Gitea-Event")
    delivery = header(headers, "X-Forgejo-Delivery") or header(headers, "X-Gitea-Delivery")
    return _github_shaped(event, delivery, body)


def parse_gitlab(headers: Mapping[str, str], body: bytes) -> PushEvent:
    event = header(headers, "X-Gitlab-Event")
    # Idempotency-Key is the id GitLab keeps across retries of one event; the event UUID is
    # only the fallback of older GitLab versions that do not send it.
    delivery = header(headers, "Idempotency-Key") or header(headers, "X-Gitlab-Event-UUID")
    data = _json(body)
    project = data.get("project") or {}
    ids = _ids(_dig(project, "path_with_namespace"), _dig(project, "git_ssh_url"),
               _dig(project, "git_http_url"), _dig(project, "web_url"))
    if data.get("object_kind") not in ("push", "tag_push"):
        return PushEvent(event, delivery, False, ids, ())
    return PushEvent(event, delivery, True, ids, (_update(data.get("ref"), data.get("after")),))


def parse_bitbucket(headers: Mapping[str, str], body: bytes) -> PushEvent:
    """Bitbucket Cloud `repo:push`: one delivery may carry several branch/tag changes."""
    event = header(headers, "X-Event-Key")
    delivery = header(headers, "X-Request-UUID")
    data = _json(body)
    repo = data.get("repository") or {}
    ids = _ids(_dig(repo, "full_name"), _dig(repo, "links", "html", "href"))
    if event != "repo:push":
        return PushEvent(event, delivery, False, ids, ())
    changes = _dig(data, "push", "changes")
    if not isinstance(changes, list):
        raise PayloadError("repo:push without push.changes")
    return PushEvent(event, delivery, True, ids, tuple(_bitbucket_change(c) for c in changes))


def _bitbucket_change(change: Any) -> RefUpdate:
    new, old = _dig(change, "new"), _dig(change, "old")
    side = new or old  # a deletion has only the old side
    kind = {"branch": "heads", "tag": "tags"}.get(_dig(side, "type"), "other")
    ref = f"refs/{kind}/{_dig(side, 'name')}"
    after = _dig(new, "target", "hash") if new else "0" * 40
    return _update(ref, after)


def parse_custom(headers: Mapping[str, str], body: bytes) -> PushEvent:
    """Our own JSON hook (Standard Webhooks envelope):
    `{"type": "push", "data": {"ref": "refs/heads/main", "after": "<sha>",
    "repository": "<url or owner/name>"}}` ("repository" optional)."""
    data = _json(body)
    event = str(data.get("type") or "")
    payload = data.get("data") or {}
    ids = _ids(_dig(payload, "repository"))
    if event != "push":
        return PushEvent(event, header(headers, "webhook-id"), False, ids, ())
    update = _update(_dig(payload, "ref"), _dig(payload, "after") or _dig(payload, "commit"))
    return PushEvent(event, header(headers, "webhook-id"), True, ids, (update,))


PARSERS: dict[str, Callable[[Mapping[str, str], bytes], PushEvent]] = {
    "github": parse_github,
    "gitlab": parse_gitlab,
    "bitbucket": parse_bitbucket,
    "gitea": parse_gitea,
    "forgejo": parse_forgejo,
    "custom": parse_custom,
}


def parse(provider: str, headers: Mapping[str, str], body: bytes) -> PushEvent:
    """The provider's event in `body`; PayloadError when malformed or without a delivery id."""
    event = PARSERS[provider](headers, body)
    if not event.delivery_id:
        raise PayloadError("missing delivery id header")
    if len(event.delivery_id) > 100:
        raise PayloadError("delivery id too long")
    return event


# Deciding ------------------------------------------------------------------------------------


def repository_keys(url_or_name: str) -> frozenset[str]:
    """Comparable forms of a repository: `host/owner/name` and `owner/name`, lower case.

    `git@github.com:acme/app.git`, `https://github.com/acme/app` and `acme/app` all share
    `acme/app`; ports, users and a trailing `.git` are dropped.
    """
    text = url_or_name.strip().lower().removesuffix("/").removesuffix(".git")
    match = re.match(r"^(?:[a-z+]+://)?(?:[^@/]+@)?([^/:]+)(?::\d+)?[:/](.+)$", text)
    if "://" not in text and "@" not in text and text.count("/") == 1:
        return frozenset({text})
    if match is None:
        return frozenset({text})
    host, path = match.group(1), match.group(2).strip("/")
    keys = {f"{host}/{path}"}
    parts = path.split("/")
    if len(parts) >= 2:
        keys.add("/".join(parts[-2:]))
    return frozenset(keys)


def same_repository(site_repository: str, named: Iterable[str]) -> bool:
    """True when the payload names no repository, or one of them is the site's."""
    named = list(named)
    if not named:
        return True
    ours = repository_keys(site_repository)
    return any(ours & repository_keys(name) for name in named)


def decide(event: PushEvent, *, branch: str, repository: str, auto_deploy: bool) -> Decision:
    """Deploy only a push to exactly `refs/heads/<branch>` of the site's repository."""
    if not event.is_push:
        return Decision(False, f"ignored: event {event.event or 'unknown'}")
    if not same_repository(repository, event.repositories):
        return Decision(False, "ignored: another repository")
    wanted = f"refs/heads/{branch}"
    matching = [u for u in event.updates if u.ref == wanted]
    if not matching:
        refs = ", ".join(u.ref for u in event.updates) or "none"
        return Decision(False, f"ignored: {_describe(refs, event.updates)}")
    update = matching[-1]
    if ZERO_SHA.fullmatch(update.after):
        return Decision(False, f"ignored: branch {branch} deleted", branch=branch)
    if not auto_deploy:
        return Decision(False, "ignored: auto-deploy is off", branch=branch, commit=update.after)
    return Decision(True, "", branch=branch, commit=update.after)


def _describe(refs: str, updates: tuple[RefUpdate, ...]) -> str:
    if len(updates) == 1:
        ref = updates[0].ref
        if ref.startswith("refs/tags/"):
            return f"tag {ref.removeprefix('refs/tags/')}"
        if ref.startswith("refs/heads/"):
            return f"branch {ref.removeprefix('refs/heads/')}"
    return f"refs {refs}"
