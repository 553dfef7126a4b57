"""Webhook fixtures: a site with auto-deploy on, its secret, and a way to deliver to it."""

from __future__ import annotations

import pytest

from servers.models import Server
from sites.models import Site
from sites.services import site_create
from tenancy.audit import Actor
from webhooks.secrets import webhook_secret_ensure


@pytest.fixture
def site(cast) -> Site:
    server = Server.objects.create(organization=cast.org, name="web-1", host="127.0.0.1")
    return site_create(
        organization=cast.org, actor=Actor(user=cast.owner), servers=[server], name="app",
        repository_url="git@github.com:acme/app.git", branch="main", deploy_path="/srv/app",
        auto_deploy=True,
    )


@pytest.fixture
def secret(site) -> str:
    return webhook_secret_ensure(site=site)


@pytest.fixture
def deliver(client, site):
    """POST `body` with `headers` to the site's hook for `provider`; returns the response."""

    def _deliver(provider: str, body: bytes, headers: dict[str, str], target: Site | None = None):
        url = f"/hooks/{(target or site).webhook_uuid}/{provider}"
        return client.post(url, data=body, content_type="application/json", headers=headers)

    return _deliver
