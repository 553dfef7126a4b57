"""The tokens page, POST /api/v1/tokens/ (session) and `manage.py create_api_token`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tenancy.models import ApiToken
from tenancy.services.tokens import api_token_authenticate


def test_it_shows_a_new_token_once_on_the_page(client_for, cast):
    client = client_for(cast.developer)
    response = client.post("/tokens/", {"name": "ci", "organization": "acme",
                                        "abilities": ["site:read", "site:deploy"]})
    plaintext = response.context["new_token"]
    assert api_token_authenticate(plaintext).token.name == "ci"
    assert plaintext not in client.get("/tokens/").content.decode()


def test_it_refuses_on_the_page_abilities_above_the_role(client_for, cast):
    response = client_for(cast.viewer).post(
        "/tokens/", {"name": "ci", "organization": "acme", "abilities": ["server:write"]})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_it_offers_only_the_users_organizations(client_for, cast):
    response = client_for(cast.developer).post(
        "/tokens/", {"name": "ci", "organization": "other", "abilities": ["site:read"]})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_it_revokes_from_the_page(client_for, cast):
    client = client_for(cast.developer)
    client.post("/tokens/", {"name": "ci", "organization": "acme", "abilities": ["site:read"]})
    token = ApiToken.objects.get()
    client.post(f"/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_does_not_let_others_revoke(client_for, cast):
    client_for(cast.developer).post(
        "/tokens/", {"name": "ci", "organization": "acme", "abilities": ["site:read"]})
    token = ApiToken.objects.get()
    assert client_for(cast.owner).post(f"/tokens/{token.pk}/revoke/").status_code == 404


def test_it_creates_tokens_over_the_api_with_a_session(client_for, cast):
    response = client_for(cast.manager).post(
        "/api/v1/tokens/", {"organization": "acme", "name": "ci", "abilities": ["server:write"]},
        content_type="application/json")
    assert response.status_code == 201
    assert api_token_authenticate(response.json()["token"]).membership.user == cast.manager


def test_it_refuses_token_creation_with_a_token(client, cast):
    from tests.fixtures.api import mint

    token = mint(cast.owner, cast.org)
    response = client.post("/api/v1/tokens/", {"organization": "acme", "name": "x",
                                               "abilities": ["site:read"]},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 403
    assert ApiToken.objects.count() == 1


def test_it_answers_404_for_an_organization_the_user_is_not_in(client_for, cast):
    response = client_for(cast.manager).post(
        "/api/v1/tokens/", {"organization": "other", "name": "ci", "abilities": ["site:read"]},
        content_type="application/json")
    assert response.status_code == 404


def test_it_enforces_csrf_on_the_session_api(cast):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.owner)
    response = client.post("/api/v1/tokens/", {"organization": "acme", "name": "ci",
                                               "abilities": ["site:read"]},
                           content_type="application/json")
    assert response.status_code == 403


def test_it_prints_a_token_from_the_command(cast):
    out = StringIO()
    call_command("create_api_token", "--email", "developer@acme.test", "--org", "acme",
                 "--abilities", "site:read,site:deploy", "--expires-days", "7", stdout=out)
    grant = api_token_authenticate(out.getvalue().strip())
    assert grant.token.abilities == ["site:read", "site:deploy"]
    assert grant.token.expires_at is not None


def test_it_refuses_in_the_command_abilities_above_the_role(cast):
    with pytest.raises(CommandError):
        call_command("create_api_token", "--email", "viewer@acme.test", "--org", "acme",
                     "--abilities", "site:deploy", stdout=StringIO())
