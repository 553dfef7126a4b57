"""The site's webhook page: URLs and deliveries for everyone, the secret for Developer+."""

from __future__ import annotations

import pytest

from tenancy.models import AuditEvent
from tests.webhooks.signing import push
from webhooks.models import WebhookSecret
from webhooks.secrets import webhook_secret_get


def url(site, action: str = "") -> str:
    return f"/o/acme/sites/{site.pk}/webhook/{action}"


@pytest.mark.parametrize("who,sees_secret", [("owner", True), ("developer", True),
                                             ("viewer", False)])
def test_it_shows_the_secret_to_developers_and_up(client_for, cast, site, who, sees_secret):
    html = client_for(cast.user(who)).get(url(site)).content.decode()
    assert str(site.webhook_uuid) in html
    assert WebhookSecret.objects.exists() == sees_secret
    assert ("whsec_" in html) == sees_secret


@pytest.mark.parametrize("who,expected", [("outsider", 404), ("anonymous", 302)])
def test_it_hides_the_page_from_outsiders(client_for, cast, site, who, expected):
    assert client_for(cast.user(who)).get(url(site)).status_code == expected


def test_it_lists_deliveries_with_their_decision(client_for, cast, site, deliver, secret):
    deliver("github", *push("github", secret, ref="refs/heads/develop"))
    html = client_for(cast.viewer).get(url(site)).content
    assert b"ignored: branch develop" in html


@pytest.mark.parametrize("who,expected", [("developer", 302), ("viewer", 403)])
def test_it_rotates_for_developers_and_up(client_for, cast, site, secret, who, expected):
    response = client_for(cast.user(who)).post(url(site, "rotate/"))
    assert response.status_code == expected
    assert (webhook_secret_get(site=site) != secret) == (expected == 302)
    assert AuditEvent.objects.filter(verb="site.webhook_secret_rotated").exists() == \
        (expected == 302)
