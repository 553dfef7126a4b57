"""Server services: what they enqueue and what they audit."""

from __future__ import annotations

from servers.services import server_ssh_target, server_update
from tenancy.audit import Actor
from tenancy.models import AuditEvent


def test_it_queues_a_first_check_when_a_server_is_added(
    add_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as enqueued:
        add_server()
    assert len(enqueued) == 1


def test_it_rechecks_only_when_the_address_changes(
    cast, add_server, django_capture_on_commit_callbacks
):
    server = add_server(host="10.0.0.5")
    actor = Actor(user=cast.manager)
    with django_capture_on_commit_callbacks() as renamed:
        server_update(server=server, actor=actor, name="renamed")
    with django_capture_on_commit_callbacks() as moved:
        server_update(server=server, actor=actor, host="10.0.0.6")
    assert (len(renamed), len(moved)) == (0, 1)


def test_it_audits_an_update_with_before_and_after(cast, add_server):
    server = add_server(host="10.0.0.5")
    server_update(server=server, actor=Actor(user=cast.manager), port=2222)
    event = AuditEvent.objects.get(verb="server.update")
    assert (event.before["port"], event.after["port"]) == (22, 2222)


def test_it_builds_the_ssh_target_from_the_pin_and_the_organization_keys(cast, add_server, org_key):
    server = add_server(host="10.0.0.5", port=2222, user="deploy")
    server.host_key = "ssh-ed25519 AAAA"
    target = server_ssh_target(server)
    assert (target.host, target.port, target.username) == ("10.0.0.5", 2222, "deploy")
    assert target.client_keys == (org_key.private_key,) and target.host_key == "ssh-ed25519 AAAA"


def test_it_leaves_the_host_key_unpinned_until_the_first_check(add_server):
    assert server_ssh_target(add_server()).host_key is None
