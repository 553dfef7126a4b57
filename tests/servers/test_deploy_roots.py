"""A server's allowed deploy roots: set by Managers through the form and the API, validated."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from servers.forms import ServerForm
from servers.models import Server
from servers.services import server_create, server_update
from tenancy.audit import Actor
from tests.fixtures.api import api_as  # noqa: F401

pytestmark = pytest.mark.django_db
GOOD = {"name": "web-1", "host": "web-1.example.com", "port": "22", "user": "deploy"}


@pytest.mark.parametrize("roots", [
    ["/"], ["relative"], ["/srv/../etc"], ["/home/deploy/.ssh"], ["/srv/-x"], ["~root"],
    [f"/r{n}" for n in range(11)], "/srv\n/",
])
def test_it_refuses_bad_roots(cast, roots):
    with pytest.raises(ValidationError):
        server_create(org=cast.org, actor=Actor(user=cast.owner), deploy_roots=roots, **GOOD)
    assert not Server.objects.exists()


def test_it_keeps_normalized_roots_and_audits_them(cast):
    actor = Actor(user=cast.owner)
    server = server_create(org=cast.org, actor=actor, **GOOD)
    server_update(server=server, actor=actor, deploy_roots=["/srv/apps/", "~", "/srv/apps"])
    assert Server.objects.get().deploy_roots == ["/srv/apps", "~"]
    assert server.allowed_deploy_roots == ("/srv/apps", "~")


def test_the_form_takes_one_root_per_line():
    form = ServerForm({**GOOD, "deploy_roots": "/srv/apps\n\n~\n"})
    assert form.is_valid() and form.cleaned_data["deploy_roots"] == ["/srv/apps", "~"]


def test_the_api_sets_roots_for_managers(cast, api_as):  # noqa: F811
    server = server_create(org=cast.org, actor=Actor(user=cast.owner), **GOOD)
    response = api_as("manager").patch(f"/api/v1/servers/{server.pk}/",
                                       {"deploy_roots": ["/srv/apps"]})
    assert response.status_code == 200 and response.json()["deploy_roots"] == ["/srv/apps"]
    refused = api_as("manager").patch(f"/api/v1/servers/{server.pk}/", {"deploy_roots": ["/"]})
    assert refused.status_code == 400
