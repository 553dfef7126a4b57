"""What the server and SSH key pages show, and what the page actions record."""

from __future__ import annotations

import shlex

import pytest
from django.urls import reverse

from servers.models import Server
from servers.services import organization_key_rotate
from servers.ssh import fingerprint, generate_keypair
from tenancy.audit import Actor
from tenancy.models import AuditEvent


def url(name: str, *args) -> str:
    return reverse(name, args=["acme", *args])


def test_it_shows_the_public_key_with_a_copy_button(cast, org_key, client_for):
    page = client_for(cast.viewer).get(url("servers:ssh-key")).content.decode()
    assert f'<pre id="public-key">{org_key.public_key}</pre>' in page
    assert 'data-copy="#public-key"' in page


def test_it_gives_a_shell_quoted_command_that_authorizes_the_key(org_key):
    command = org_key.authorize_command
    assert f"echo '{org_key.public_key}' >> ~/.ssh/authorized_keys" in command
    assert shlex.split(command.split("&& ", 1)[1])[:2] == ["echo", org_key.public_key]


def test_it_lists_the_servers_a_rotation_waits_for(cast, add_server, client_for):
    add_server(name="waiting-one")
    organization_key_rotate(org=cast.org, actor=Actor(user=cast.owner))
    page = client_for(cast.viewer).get(url("servers:ssh-key")).content.decode()
    assert "Rotation in progress" in page and "waiting-one" in page


def test_it_offers_to_pin_the_presented_key_by_its_fingerprint(cast, add_server, client_for):
    server = add_server()
    _private, presented = generate_keypair()
    Server.objects.filter(pk=server.pk).update(
        status="host_key_changed", presented_host_key=presented
    )
    page = client_for(cast.manager).get(url("servers:detail", server.pk)).content.decode()
    assert f'name="fingerprint" value="{fingerprint(presented)}"' in page


@pytest.mark.parametrize(
    "name,data,verb",
    [
        (
            "servers:create",
            {"name": "n", "host": "10.0.0.9", "port": "22", "user": "root"},
            "server.create",
        ),
        (
            "servers:edit",
            {"name": "renamed", "host": "10.0.0.5", "port": "22", "user": "root"},
            "server.update",
        ),
        ("servers:delete", {}, "server.delete"),
        ("servers:repin", {}, "server.repin"),
    ],
)
def test_it_audits_every_change_made_from_a_page(cast, client_for, name, data, verb):
    server = Server.objects.create(organization=cast.org, name="web-1", host="10.0.0.5")
    path = url(name) if name == "servers:create" else url(name, server.pk)
    client_for(cast.manager).post(path, data)
    event = AuditEvent.objects.get(verb=verb)
    assert event.actor == cast.manager and event.organization == cast.org


def test_it_records_who_added_a_server(cast, client_for):
    form = {"name": "n", "host": "10.0.0.9", "port": "22", "user": "root"}
    client_for(cast.manager).post(url("servers:create"), form)
    assert Server.objects.get(name="n").added_by == cast.manager


def test_it_keeps_the_form_values_when_the_host_is_refused(cast, client_for):
    form = {"name": "n", "host": "$(id)", "port": "22", "user": "root"}
    response = client_for(cast.manager).post(url("servers:create"), form)
    assert response.status_code == 200 and "$(id)" in response.content.decode()
    assert not Server.objects.exists()
