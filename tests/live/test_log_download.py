"""The raw log download: the stored lines as text/plain, for members only.

Called through the view function (the URL line is added to deployments/urls.py by the lead).
"""

from __future__ import annotations

import pytest
from django.http import Http404

from deployments.views_live import log_download
from tests.fixtures.live import make_deployment, store_lines


@pytest.fixture
def logged(cast):
    deployment = make_deployment(cast.org)
    store_lines(deployment, ["== fetch_code", "\x1b[32mok\x1b[0m <done>"])
    return deployment


def download(rf, user, deployment):
    request = rf.get("/log.txt")
    request.user = user
    return log_download(request, org="acme", pk=deployment.pk)


def test_it_sends_the_stored_log_as_a_plain_text_attachment(rf, cast, logged):
    response = download(rf, cast.viewer, logged)
    assert response.content.decode() == "[web1] == fetch_code\n[web1] ok <done>\n"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="deployment-{logged.pk}.log"'


def test_it_hides_the_log_from_an_outsider(rf, cast, logged):
    with pytest.raises(Http404):
        download(rf, cast.outsider, logged)


def test_it_hides_another_organizations_deployment(rf, cast):
    theirs = make_deployment(cast.other_org)
    with pytest.raises(Http404):
        download(rf, cast.developer, theirs)
