"""Webhook fixtures: a site with auto-deploy on, its secret, and a way to deliver to it."""

from __future__ import annotations

import pytest

from sites.models import Site
from webhooks.secrets import webhook_secret_ensure


@pytest.fixture
def site(make_site) -> Site:
    """The shared site with auto-deploy on (pushes to its branch deploy)."""
    return make_site(name="app", repository_url="git@github.com:acme/app.git",
                     deploy_path="/srv/app", domain="", auto_deploy=True)


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
