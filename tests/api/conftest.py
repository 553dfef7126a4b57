"""API fixtures: mint real tokens through the service and call the API with them."""

from __future__ import annotations

import pytest

from tenancy.audit import Actor
from tenancy.models import Ability, ApiToken
from tenancy.services.tokens import abilities_beyond_role, api_token_create

ALL_ABILITIES = tuple(Ability.values)


def mint(user, org, abilities=ALL_ABILITIES, **kwargs) -> str:
    """A plaintext token for `user` in `org` carrying exactly `abilities`.

    The service refuses abilities above the user's role, so the token is minted with what the
    role allows and then given the rest, as if it had been minted before a demotion: role
    matrices then exercise the per-request role check, not only the ability list.
    """
    role = user.memberships.get(organization=org).role
    allowed = [a for a in abilities if a not in abilities_beyond_role([a], role)]
    token, plaintext = api_token_create(actor=Actor(user=user), user=user, organization=org,
                                        name="test", abilities=allowed or ["site:read"], **kwargs)
    ApiToken.objects.filter(pk=token.pk).update(abilities=list(abilities))
    return plaintext


class Api:
    """The Django test client with a bearer token, speaking JSON."""

    def __init__(self, client, token: str | None) -> None:
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, url: str, **params):
        return self.client.get(url, params, **self.headers)

    def post(self, url: str, data: dict | None = None):
        return self.client.post(url, data or {}, content_type="application/json", **self.headers)

    def patch(self, url: str, data: dict):
        return self.client.patch(url, data, content_type="application/json", **self.headers)

    def delete(self, url: str):
        return self.client.delete(url, **self.headers)


@pytest.fixture
def api_as(client, cast):
    """`api_as("developer")`: an Api whose token belongs to that member of cast.org (all the
    abilities the role allows); "outsider" gets a token for their own organization;
    "anonymous" sends no token."""

    def _make(who: str, abilities=ALL_ABILITIES, **kwargs) -> Api:
        if who == "anonymous":
            return Api(client, None)
        user = cast.user(who)
        org = cast.other_org if who == "outsider" else cast.org
        return Api(client, mint(user, org, abilities, **kwargs))

    return _make
