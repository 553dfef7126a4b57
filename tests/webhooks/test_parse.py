"""Parsing pushes per provider and deciding what they mean for a site (pure)."""

from __future__ import annotations

import json

import pytest

from tests.webhooks.signing import SHA, payload, signed
from webhooks.parse import PayloadError, decide, parse, repository_keys

PROVIDERS = ("github", "gitlab", "bitbucket", "gitea", "forgejo", "custom")


def event(provider: str, **kwargs):
    body = json.dumps(payload(provider, **kwargs)).encode()
    return parse(provider, signed(provider, "x", body, delivery="d-1"), body)


def decision(provider: str, branch: str = "main", auto_deploy: bool = True, **kwargs):
    return decide(event(provider, **kwargs), branch=branch,
                  repository="git@github.com:acme/app.git", auto_deploy=auto_deploy)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_it_deploys_a_push_to_the_sites_branch(provider):
    result = decision(provider)
    assert (result.deploy, result.commit, result.branch) == (True, SHA, "main")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_it_reads_the_delivery_id(provider):
    assert event(provider).delivery_id == "d-1"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_it_ignores_other_branches(provider):
    assert decision(provider, ref="refs/heads/develop").reason == "ignored: branch develop"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_it_ignores_tags(provider):
    assert decision(provider, ref="refs/tags/main").reason == "ignored: tag main"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_it_ignores_deletions(provider):
    assert decision(provider, after="0" * 40).reason == "ignored: branch main deleted"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_it_ignores_other_repositories(provider):
    assert decision(provider, repository="evil/app").reason == "ignored: another repository"


def test_it_ignores_a_prefix_of_the_branch():
    assert not decision("github", branch="main", ref="refs/heads/main-old").deploy


def test_it_ignores_pushes_when_auto_deploy_is_off():
    assert decision("github", auto_deploy=False).reason == "ignored: auto-deploy is off"


BAD_NAMES = ["a..b", "x y", "x~1", "a:b", ".hidden", "x.lock", "x\x00y", "x/"]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("name", BAD_NAMES)
def test_it_refuses_malformed_refs(provider, name):
    with pytest.raises(PayloadError):
        event(provider, ref=f"refs/heads/{name}")


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if p != "bitbucket"])
@pytest.mark.parametrize("ref", ["main", "heads/main", 7, None])
def test_it_refuses_refs_outside_refs(provider, ref):
    with pytest.raises(PayloadError):
        event(provider, ref=ref)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("after", ["abc", "g" * 40, "a" * 39, "; rm -rf /"])
def test_it_refuses_malformed_shas(provider, after):
    with pytest.raises(PayloadError):
        event(provider, after=after)


def test_it_refuses_non_json_bodies():
    with pytest.raises(PayloadError):
        parse("github", signed("github", "x", b"nope", delivery="d"), b"nope")


def test_it_refuses_a_delivery_without_an_id():
    body = json.dumps(payload("github")).encode()
    headers = signed("github", "x", body)
    headers.pop("X-GitHub-Delivery")
    with pytest.raises(PayloadError):
        parse("github", headers, body)


def test_it_ignores_githubs_ping():
    body = b'{"zen": "hi", "repository": {"full_name": "acme/app"}}'
    ping = parse("github", signed("github", "x", body, event="ping", delivery="d"), body)
    assert decide(ping, branch="main", repository="acme/app", auto_deploy=True).reason == \
        "ignored: event ping"


@pytest.mark.parametrize("url", ["git@github.com:acme/app.git", "https://github.com/acme/app",
                                 "ssh://git@github.com:22/Acme/App.git", "acme/app"])
def test_it_recognises_one_repository_in_every_spelling(url):
    assert "acme/app" in repository_keys(url)


def test_it_finds_the_sites_branch_among_several_bitbucket_changes():
    change = {"new": {"type": "branch", "name": "develop", "target": {"hash": "c" * 40}}}
    ours = {"new": {"type": "branch", "name": "main", "target": {"hash": SHA}}}
    body = json.dumps({"push": {"changes": [change, ours]},
                       "repository": {"full_name": "acme/app"}}).encode()
    push = parse("bitbucket", signed("bitbucket", "x", body, delivery="d"), body)
    result = decide(push, branch="main", repository="acme/app", auto_deploy=True)
    assert (result.deploy, result.commit) == (True, SHA)
