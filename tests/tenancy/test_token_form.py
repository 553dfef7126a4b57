"""`Authorization: Bearer dnx_…` only in its one documented form.

A live token that is padded, doubled-spaced or folded with another value is refused (401):
a credential has one spelling.
"""

from __future__ import annotations

import pytest

from tests.fixtures.api import mint

URL = "/api/v1/servers/"


@pytest.fixture
def token(cast) -> str:
    return mint(cast.manager, cast.org)


def test_it_accepts_the_exact_form_in_any_scheme_case(client, token):
    assert client.get(URL, HTTP_AUTHORIZATION=f"bearer {token}").status_code == 200


@pytest.mark.parametrize("form", [
    "Bearer  {t}", "Bearer {t} ", "Bearer\t{t}", " Bearer {t}", "Bearer {t}, Bearer {t}",
    "Bearer {t}\t", "Bearer {t}=",
])
def test_it_refuses_a_padded_or_folded_token(client, token, form):
    response = client.get(URL, HTTP_AUTHORIZATION=form.format(t=token))
    assert response.status_code == 401
