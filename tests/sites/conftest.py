"""Fixtures for site tests: a server of the cast's organization and a valid site."""

from __future__ import annotations

import pytest

from servers.models import Server
from sites.models import Site
from sites.services import site_create
from tenancy.audit import Actor

VALID = {
    "name": "shop",
    "domain": "shop.example.test",
    "repository_url": "git@github.com:acme/shop.git",
    "branch": "main",
    "deploy_path": "/srv/shop",
}


@pytest.fixture
def server(cast) -> Server:
    return Server.objects.create(organization=cast.org, name="web-1", host="127.0.0.1", port=22)


@pytest.fixture
def other_server(cast) -> Server:
    return Server.objects.create(organization=cast.other_org, name="theirs", host="127.0.0.1")


@pytest.fixture
def make_site(cast, server):
    """Create a site through the service (defaults valid), as the owner."""

    def make(**fields) -> Site:
        values = {**VALID, **fields}
        return site_create(
            organization=cast.org, actor=Actor(user=cast.owner), servers=[server], **values
        )

    return make


@pytest.fixture
def site(make_site) -> Site:
    return make_site(env={"APP_KEY": "base64:c2VjcmV0LWtleS12YWx1ZQ==", "APP_DEBUG": "false"})
