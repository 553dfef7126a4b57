"""The organization's private key never appears in a page, an error, a log or an audit event."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from servers.models import OrganizationKey, Server
from servers.services import organization_key_rotate, server_check
from servers.ssh import generate_keypair
from servers.tasks import ServerUnreachable, check_server
from tenancy.audit import Actor
from tenancy.models import AuditEvent

GARBAGE_CANARY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nCANARYdeploynixSECRETdoNOTshow0123456789\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)


def secret_lines(private_key: str) -> list[str]:
    """The base64 body lines of a private key: none may ever be shown."""
    return [line for line in private_key.splitlines() if line and "PRIVATE KEY" not in line]


def leaks(text: str, private_key: str) -> bool:
    return any(line in text for line in secret_lines(private_key))


def set_private_key(org, private: str) -> str:
    key = OrganizationKey.objects.get(organization=org, superseded_at__isnull=True)
    key.private_key = private
    key.save()
    return private


@pytest.fixture
def canary(cast) -> str:
    """A real private key for the cast organization, which we look for everywhere."""
    return set_private_key(cast.org, generate_keypair("canary")[0])


def every_page(server: Server) -> list[str]:
    def at(name: str, *args) -> str:
        return reverse(name, args=["acme", *args])

    return [
        at("servers:list"),
        at("servers:detail", server.pk),
        at("servers:create"),
        at("servers:edit", server.pk),
        at("servers:delete", server.pk),
        at("servers:ssh-key"),
    ]


@pytest.mark.ssh
def test_it_never_renders_the_private_key_on_any_page(
    cast, canary, make_sshd_host, add_server, client_for
):
    server = add_server(make_sshd_host(authorized_keys=[]))  # a check that fails auth
    server_check(server)
    organization_key_rotate(org=cast.org, actor=Actor(user=cast.owner))  # both keys on a page
    client = client_for(cast.owner)
    pages = [client.get(path).content.decode() for path in every_page(server)]
    assert all(page.count("<html") == 1 for page in pages)
    assert not any(leaks(page, canary) for page in pages)


def test_it_keeps_a_bad_key_out_of_the_error_the_log_and_the_page(
    cast, add_server, closed_port, client_for, caplog
):
    set_private_key(cast.org, GARBAGE_CANARY)
    server = add_server(port=closed_port)
    with caplog.at_level(logging.DEBUG), pytest.raises(ServerUnreachable) as caught:
        check_server.run(server.pk)
    server.refresh_from_db()
    texts = [
        str(caught.value),
        caplog.text,
        server.last_check_error,
        client_for(cast.owner).get(every_page(server)[1]).content.decode(),
    ]
    assert server.last_check_error and not any(leaks(text, GARBAGE_CANARY) for text in texts)


def test_it_keeps_private_keys_out_of_audit_events(cast, canary):
    organization_key_rotate(org=cast.org, actor=Actor(user=cast.owner))
    events = [f"{e.before} {e.after} {e.target_repr}" for e in AuditEvent.objects.all()]
    assert events and not any(leaks(text, canary) for text in events)
