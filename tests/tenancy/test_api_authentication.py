"""Bearer tokens at the door: 401 for anything but a live token of a current member."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tenancy.models import ApiToken, Membership
from tenancy.roles import Role
from tests.fixtures.api import Api, mint

URL = "/api/v1/servers/"


@pytest.fixture
def token(cast) -> str:
    return mint(cast.manager, cast.org)


def test_it_answers_401_without_a_token(client, cast):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


BAD_HEADERS = ["Bearer", "Bearer dnx_nope", "Bearer a b", "Bearer dnx_" + "x" * 43, "Bearer é"]


@pytest.mark.parametrize("header", BAD_HEADERS)
def test_it_answers_401_to_malformed_or_unknown_tokens(client, cast, header):
    assert client.get(URL, HTTP_AUTHORIZATION=header).status_code == 401


def test_it_answers_200_to_a_live_token(client, token):
    assert Api(client, token).get(URL).status_code == 200


def test_it_answers_401_to_a_revoked_token(client, token):
    ApiToken.objects.update(revoked_at=timezone.now())
    assert Api(client, token).get(URL).status_code == 401


def test_it_answers_401_to_an_expired_token(client, token):
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Api(client, token).get(URL).status_code == 401


def test_it_answers_401_once_the_member_is_removed(client, cast, token):
    Membership.objects.filter(user=cast.manager, organization=cast.org).delete()
    assert Api(client, token).get(URL).status_code == 401


def test_it_answers_401_for_a_deactivated_user(client, cast, token):
    cast.manager.is_active = False
    cast.manager.save()
    assert Api(client, token).get(URL).status_code == 401


def test_it_demotes_the_token_with_its_user(client, cast, token):
    api = Api(client, token)
    assert api.post(URL, {"name": "a", "host": "127.0.0.1"}).status_code == 201
    Membership.objects.filter(user=cast.manager, organization=cast.org).update(role=Role.DEVELOPER)
    assert api.post(URL, {"name": "b", "host": "127.0.0.1"}).status_code == 403


def test_it_ignores_session_login_on_token_endpoints(client, cast):
    client.force_login(cast.owner)
    assert client.get(URL).status_code == 401


def test_it_answers_405_to_a_method_the_endpoint_lacks(client, token):
    assert Api(client, token).patch(URL, {}).status_code == 405
