"""The site's webhook page: URLs and deliveries for everyone, the secret for Developer+."""

from __future__ import annotations

import pytest

from tenancy.models import AuditEvent
from tests.webhooks.signing import push
from webhooks.models import WebhookSecret
from webhooks.secrets import webhook_secret_get


def url(site, action: str = "") -> str:
    return f"/o/acme/sites/{site.pk}/webhook/{action}"


@pytest.mark.parametrize("who,can_reveal", [("owner", True), ("developer", True),
                                            ("viewer", False)])
def test_it_offers_the_secret_to_developers_and_up(client_for, cast, site, who, can_reveal):
    html = client_for(cast.user(who)).get(url(site)).content.decode()
    assert str(site.webhook_uuid) in html
    # Revealed on purpose only (tests/webhooks/test_secret_reveal.py), never on the page.
    assert "whsec_" not in html and not WebhookSecret.objects.exists()
    assert ("Reveal secret" in html) == can_reveal


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
