"""Signed deliveries from every provider deploy the PUSHED commit to a real server.

Each builder below makes the provider's own push payload (the fields a real delivery carries,
not only the ones we read) and its own headers, signed with the site's secret the way that
provider signs, independently of webhooks/verify.py. The branch moves on after the push,
so a deploy of the branch head instead of the pushed commit fails the test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from deployments.models import Deployment, Status
from deployments.tasks import run_deployment
from sites.models import Site
from testbed.gitrepo import git
from tests.deployments.workers import purge_queues
from tests.fixtures.stage import Stage, finished, make_stage
from webhooks.links import webhook_urls
from webhooks.secrets import webhook_secret_ensure

pytestmark = [pytest.mark.ssh, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

WEB = "https://git.example.test"


@dataclass(frozen=True)
class Push:
    """What a git host knows about one push to `main`: the commit, its parent, the repo."""

    sha: str
    before: str
    message: str
    author_name: str
    author_email: str
    timestamp: str  # ISO 8601, as the hosts send it
    owner: str
    name: str
    clone_ssh: str  # the site's real repository URL

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def web_url(self) -> str:
        return f"{WEB}/{self.full_name}"


def pushed(stage: Stage, sha: str) -> Push:
    """Read the commit from the real repository, as the host would when it sends the hook."""
    fields = git("log", "-1", "--format=%P%n%s%n%an%n%ae%n%aI", sha, cwd=stage.repo.path)
    before, message, name, email, stamp = fields.split("\n")
    owner, repo = Path(stage.repo.path).parent.name, Path(stage.repo.path).stem
    return Push(sha, before, message, name, email, stamp, owner, repo, stage.site.repository_url)


def hex_hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


# GitHub, Gitea and Forgejo ------------------------------------------------------------------


def github_like_payload(push: Push) -> dict:
    """The push event of GitHub, which Gitea and Forgejo reproduce field for field."""
    person = {"name": push.author_name, "email": push.author_email, "username": "dev"}
    commit = {
        "id": push.sha, "tree_id": "f" * 40, "distinct": True, "message": push.message,
        "timestamp": push.timestamp, "url": f"{push.web_url}/commit/{push.sha}",
        "author": person, "committer": person, "added": [], "removed": [], "modified": ["VERSION"],
    }
    repository = {
        "id": 4242, "name": push.name, "full_name": push.full_name, "private": True,
        "owner": {"login": push.owner, "id": 77}, "html_url": push.web_url,
        "clone_url": f"{push.web_url}.git", "ssh_url": push.clone_ssh,
        "git_url": f"git://git.example.test/{push.full_name}.git", "default_branch": "main",
    }
    return {
        "ref": "refs/heads/main", "before": push.before, "after": push.sha, "created": False,
        "deleted": False, "forced": False, "base_ref": None,
        "compare": f"{push.web_url}/compare/{push.before[:12]}...{push.sha[:12]}",
        "commits": [commit], "head_commit": commit, "total_commits": 1,
        "repository": repository, "pusher": {"name": "dev", "email": push.author_email},
        "sender": {"login": "dev", "id": 77},
    }


def github(push: Push, secret: str) -> tuple[bytes, dict[str, str]]:
    body = encode(github_like_payload(push))
    sha1 = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return body, {
        "User-Agent": "GitHub-Hookshot/5d1f6e4", "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(uuid.uuid4()), "X-GitHub-Hook-ID": "512",
        "X-GitHub-Hook-Installation-Target-Type": "repository",
        "X-Hub-Signature": f"sha1={sha1}",  # sent too; must not be what we trust
        "X-Hub-Signature-256": f"sha256={hex_hmac(secret, body)}",
    }


def gitea(push: Push, secret: str) -> tuple[bytes, dict[str, str]]:
    body, delivery = encode(github_like_payload(push)), str(uuid.uuid4())
    signature = hex_hmac(secret, body)
    return body, {
        "User-Agent": "Go-http-client/1.1", "X-Gitea-Event": "push", "X-Gitea-Event-Type": "push",
        "X-Gitea-Delivery": delivery, "X-Gitea-Signature": signature,
        "X-Gogs-Event": "push", "X-Gogs-Delivery": delivery, "X-Gogs-Signature": signature,
        "X-GitHub-Event": "push", "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={signature}",
    }


def forgejo(push: Push, secret: str) -> tuple[bytes, dict[str, str]]:
    body, gitea_headers = gitea(push, secret)
    delivery, signature = gitea_headers["X-Gitea-Delivery"], gitea_headers["X-Gitea-Signature"]
    return body, {
        **gitea_headers, "X-Forgejo-Event": "push", "X-Forgejo-Event-Type": "push",
        "X-Forgejo-Delivery": delivery, "X-Forgejo-Signature": signature,
    }


# GitLab ---------------------------------------------------------------------------------------


def gitlab(push: Push, secret: str) -> tuple[bytes, dict[str, str]]:
    project = {
        "id": 15, "name": push.name, "web_url": push.web_url, "git_ssh_url": push.clone_ssh,
        "git_http_url": f"{push.web_url}.git", "namespace": push.owner, "visibility_level": 0,
        "path_with_namespace": push.full_name, "default_branch": "main",
    }
    commit = {
        "id": push.sha, "message": f"{push.message}\n", "title": push.message,
        "timestamp": push.timestamp, "url": f"{push.web_url}/-/commit/{push.sha}",
        "author": {"name": push.author_name, "email": push.author_email},
        "added": [], "modified": ["VERSION"], "removed": [],
    }
    body = encode({
        "object_kind": "push", "event_name": "push", "before": push.before, "after": push.sha,
        "ref": "refs/heads/main", "ref_protected": True, "checkout_sha": push.sha,
        "user_id": 4, "user_name": "Dev", "user_username": "dev", "user_email": "",
        "project_id": 15, "project": project, "commits": [commit], "total_commits_count": 1,
        "repository": {"name": push.name, "url": push.clone_ssh, "homepage": push.web_url,
                       "git_http_url": f"{push.web_url}.git", "git_ssh_url": push.clone_ssh},
    })
    delivery = str(uuid.uuid4())
    # GitLab signs nothing: it sends the secret token itself.
    return body, {
        "User-Agent": "GitLab/17.5.1", "X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": secret,
        "X-Gitlab-Event-UUID": delivery, "X-Gitlab-Webhook-UUID": str(uuid.uuid4()),
        "X-Gitlab-Instance": WEB, "Idempotency-Key": delivery,
    }


# Bitbucket Cloud -----------------------------------------------------------------------------


def bitbucket(push: Push, secret: str) -> tuple[bytes, dict[str, str]]:
    def side(sha: str, **target_fields: str) -> dict:
        target = {"type": "commit", "hash": sha, "date": push.timestamp, **target_fields,
                  "links": {"html": {"href": f"{push.web_url}/commits/{sha}"}}}
        return {"type": "branch", "name": "main", "target": target}

    message = f"{push.message}\n"
    change = {
        "old": side(push.before), "new": side(push.sha, message=message), "created": False,
        "closed": False, "forced": False, "truncated": False,
        "commits": [{"hash": push.sha, "message": message, "type": "commit",
                     "author": {"raw": f"{push.author_name} <{push.author_email}>"}}],
    }
    body = encode({
        "actor": {"display_name": "Dev", "type": "user", "uuid": "{1b6d2e3c}"},
        "repository": {"type": "repository", "full_name": push.full_name, "name": push.name,
                       "scm": "git", "is_private": True, "uuid": "{9f0e8d7c}",
                       "links": {"html": {"href": push.web_url}}},
        "push": {"changes": [change]},
    })
    return body, {
        "User-Agent": "Bitbucket-Webhooks/2.0", "X-Event-Key": "repo:push",
        "X-Request-UUID": str(uuid.uuid4()), "X-Hook-UUID": str(uuid.uuid4()),
        "X-Attempt-Number": "1", "X-Hub-Signature": f"sha256={hex_hmac(secret, body)}",
    }


# Our own hook: a Standard Webhooks envelope ----------------------------------------------------


def custom(push: Push, secret: str) -> tuple[bytes, dict[str, str]]:
    body = encode({
        "type": "push", "timestamp": push.timestamp,
        "data": {"ref": "refs/heads/main", "after": push.sha, "repository": push.clone_ssh},
    })
    msg_id, stamp = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return body, {"webhook-id": msg_id, "webhook-timestamp": stamp,
                  "webhook-signature": f"v1,{base64.b64encode(mac).decode()}"}


DELIVERIES = {"github": github, "gitlab": gitlab, "bitbucket": bitbucket, "gitea": gitea,
              "forgejo": forgejo, "custom": custom}


# The tests -------------------------------------------------------------------------------------


@pytest.fixture
def stage(cast, sshd_host, tmp_path: Path) -> Stage:
    return make_stage(cast, sshd_host, tmp_path, auto_deploy=True)


def hook_path(site: Site, provider: str) -> str:
    """The path of the URL the site shows for `provider` (what the user pastes into the host)."""
    return urlsplit(webhook_urls(site)[provider]).path


def deliver(client, site: Site, provider: str, push: Push):
    """POST the provider's signed delivery of `push`, raw body, to the site's hook URL."""
    body, headers = DELIVERIES[provider](push, webhook_secret_ensure(site=site))
    return client.post(hook_path(site, provider), data=body, content_type="application/json",
                       headers=headers)


def run_queued(deployment_id: int) -> Deployment:
    """Run the queued task here, as a worker would; wait in case a live worker claimed it."""
    run_deployment(deployment_id)
    [deployment] = finished(Deployment.objects.get(pk=deployment_id))
    return deployment


@pytest.mark.parametrize("provider", sorted(DELIVERIES))
def test_it_deploys_the_pushed_commit_not_the_branch_head(client, stage, provider):
    push = pushed(stage, stage.release("1.0.0"))
    assert stage.release("1.0.1") != push.sha  # the branch moved on after the push
    response = deliver(client, stage.site, provider, push)
    assert response.status_code == 202, response.content
    deployment = run_queued(response.json()["deployment"])
    assert (deployment.status, deployment.commit_sha) == (Status.SUCCEEDED, push.sha), \
        deployment.error
    assert (stage.deploy_path / "current" / "REVISION").read_text().strip() == push.sha


@pytest.fixture
def worker(request):
    """A real Celery worker, started on queues emptied of earlier tests' stale task ids."""
    purge_queues()
    return request.getfixturevalue("celery_worker_process")


@pytest.mark.slow
def test_it_deploys_through_the_broker_and_a_real_worker(client, stage, worker):
    push = pushed(stage, stage.release("2.0.0"))
    stage.release("2.0.1")
    response = deliver(client, stage.site, "github", push)
    [deployment] = finished(Deployment.objects.get(pk=response.json()["deployment"]))
    assert (deployment.status, deployment.commit_sha) == (Status.SUCCEEDED, push.sha), \
        deployment.error
    assert (stage.deploy_path / "current" / "REVISION").read_text().strip() == push.sha
