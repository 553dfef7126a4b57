"""The raw log download: the stored lines as a text/plain attachment, for members only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.fixtures.live import make_deployment, store_lines


@pytest.fixture
def logged(cast):
    deployment = make_deployment(cast.org)
    store_lines(deployment, ["== fetch_code", "\x1b[32mok\x1b[0m <done>"])
    return deployment


def url(deployment, org: str = "acme") -> str:
    return reverse("deployments:log-download", kwargs={"org": org, "pk": deployment.pk})


def test_it_sends_the_stored_log_as_a_plain_text_attachment(client_for, cast, logged):
    response = client_for(cast.viewer).get(url(logged))
    assert response.content.decode() == "[web1] == fetch_code\n[web1] ok <done>\n"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="deployment-{logged.pk}.log"'


@pytest.mark.parametrize("who,status", [("outsider", 404), ("anonymous", 302)])
def test_it_hides_the_log_from_non_members(client_for, cast, logged, who, status):
    assert client_for(cast.user(who)).get(url(logged)).status_code == status


def test_it_hides_another_organizations_deployment(client_for, cast):
    theirs = make_deployment(cast.other_org)
    assert client_for(cast.developer).get(url(theirs)).status_code == 404
