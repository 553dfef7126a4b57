"""The webhook secret is revealed on purpose: a POST by the "view secrets" roles, audited."""

from __future__ import annotations

import pytest

from tenancy.models import AuditEvent
from tests.fixtures.api import api_as  # noqa: F401
from webhooks.secrets import webhook_secret_get


def reveal_url(site) -> str:
    return f"/o/acme/sites/{site.pk}/webhook/reveal/"


@pytest.mark.parametrize(("who", "expected"), [
    ("owner", 200), ("developer", 200), ("viewer", 403), ("outsider", 404),
])
def test_it_reveals_the_secret_to_developers_and_up(client_for, cast, site, who, expected):
    response = client_for(cast.user(who)).post(reveal_url(site), HTTP_HX_REQUEST="true")
    assert response.status_code == expected
    assert ("whsec_" in response.content.decode()) == (expected == 200)


def test_a_reveal_is_audited_and_shows_the_current_secret(client_for, cast, site):
    html = client_for(cast.developer).post(reveal_url(site)).content.decode()
    assert webhook_secret_get(site=site) in html
    event = AuditEvent.objects.get(verb="site.webhook_secret_revealed")
    assert event.actor == cast.developer and "whsec_" not in str(event.after)


def test_a_reveal_needs_a_post(client_for, cast, site):
    assert client_for(cast.developer).get(reveal_url(site)).status_code == 405


def test_reading_the_secret_through_the_api_is_audited(api_as, cast, site):  # noqa: F811
    response = api_as("developer").get(f"/api/v1/sites/{site.pk}/webhook/")
    event = AuditEvent.objects.get(verb="site.webhook_secret_revealed")
    assert response.json()["secret"] == webhook_secret_get(site=site)
    assert event.actor == cast.developer and event.source == AuditEvent.Source.API
