"""Connection checks against real OpenSSH hosts: pinning, changed keys, auth, reachability."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from servers.checks import probe
from servers.models import Server, ServerStatus
from servers.services import server_check, server_repin
from servers.ssh import fingerprint, generate_keypair
from servers.tasks import ServerUnreachable, check_server
from tenancy.audit import Actor

pytestmark = pytest.mark.ssh


def logs_in_marker(public_key: str, marker: Path) -> str:
    """An authorized_keys line that touches `marker` at every login before running the command."""
    return f'command="touch {marker}; exec sh -c \\"$SSH_ORIGINAL_COMMAND\\"" {public_key}'


def key_body(line: str) -> list[str]:
    """Type and base64 of an OpenSSH key line (a presented key carries no comment)."""
    return line.split()[:2]


def changed_host_key(host, server) -> str:
    """Pin `server` to `host`'s current key, then give the host a new one; return the old print."""
    server_check(server)
    old = fingerprint(host.host_key_line)
    host.regenerate_host_key()
    server_check(server)
    server.refresh_from_db()
    return old


def test_it_pins_the_host_key_on_the_first_check(org_host, add_server):
    server = add_server(org_host)
    assert server_check(server) == ServerStatus.CONNECTED
    server.refresh_from_db()
    assert key_body(server.host_key) == key_body(org_host.host_key_line)
    assert server.host_key_fingerprint == fingerprint(org_host.host_key_line)


def test_it_shows_the_pinned_fingerprint_on_the_server_page(cast, org_host, add_server, client_for):
    server = add_server(org_host)
    server_check(server)
    page = client_for(cast.viewer).get(reverse("servers:detail", args=["acme", server.pk]))
    assert fingerprint(org_host.host_key_line) in page.content.decode()


def test_it_records_the_facts_the_probes_found(org_host, add_server):
    server = add_server(org_host)
    server_check(server)
    server.refresh_from_db()
    assert server.facts["os"].startswith("Debian GNU/Linux")
    assert server.facts["git"][0].isdigit() and server.facts["nginx"].startswith("1.")
    assert server.facts["php_fpm"].startswith("8.2")


async def test_it_reports_a_missing_tool_as_none(ssh_connection):
    argv = ("deploynix-no-such-tool", "--version")
    assert await probe(ssh_connection, [argv], r"(\S+)") is None
    assert await probe(ssh_connection, [argv, ("git", "--version")], r"version (\S+)")


def test_it_refuses_a_changed_host_key_before_anything_runs(
    make_sshd_host, org_key, add_server, tmp_path
):
    marker = tmp_path / "someone-logged-in"
    host = make_sshd_host(authorized_keys=[logs_in_marker(org_key.public_key, marker)])
    server = add_server(host)
    server_check(server)
    marker.unlink()  # raises if the marker mechanism did not work on a normal login
    host.regenerate_host_key()
    assert server_check(server) == ServerStatus.HOST_KEY_CHANGED
    assert not marker.exists()


def test_it_names_both_fingerprints_and_keeps_the_pin_when_the_key_changed(org_host, add_server):
    server = add_server(org_host)
    old = changed_host_key(org_host, server)
    assert server.status == ServerStatus.HOST_KEY_CHANGED
    assert f"expected {old}, got {fingerprint(org_host.host_key_line)}" in server.last_check_error
    assert server.host_key_fingerprint == old


def test_it_connects_after_pinning_the_presented_key(cast, org_host, add_server):
    server = add_server(org_host)
    changed_host_key(org_host, server)
    new = fingerprint(org_host.host_key_line)
    server_repin(server=server, actor=Actor(user=cast.manager), presented_fingerprint=new)
    assert server_check(server) == ServerStatus.CONNECTED
    assert server.host_key_fingerprint == new


def test_it_trusts_the_next_key_after_forgetting_the_pin(cast, org_host, add_server):
    server = add_server(org_host)
    changed_host_key(org_host, server)
    server_repin(server=server, actor=Actor(user=cast.manager))
    assert server.host_key == ""
    assert server_check(server) == ServerStatus.CONNECTED
    assert key_body(server.host_key) == key_body(org_host.host_key_line)


def test_it_refuses_to_pin_a_fingerprint_the_server_did_not_present(cast, org_host, add_server):
    server = add_server(org_host)
    old = changed_host_key(org_host, server)
    with pytest.raises(ValidationError):
        server_repin(server=server, actor=Actor(user=cast.manager), presented_fingerprint=old)


def test_it_reports_auth_failed_for_a_key_the_server_does_not_authorize(make_sshd_host, add_server):
    host = make_sshd_host(authorized_keys=[generate_keypair()[1]])
    server = add_server(host)
    assert server_check(server) == ServerStatus.AUTH_FAILED
    expected = f"authentication failed for {host.user}@127.0.0.1:{host.port}"
    assert server.last_check_error == expected


def test_it_reports_a_closed_port_as_unreachable_within_the_connect_timeout(
    add_server, closed_port
):
    server = add_server(port=closed_port)
    started = time.monotonic()
    assert server_check(server) == ServerStatus.UNREACHABLE
    assert time.monotonic() - started < 10  # SSHTarget.connect_timeout
    assert "connection refused" in server.last_check_error


def test_it_asks_celery_to_retry_only_while_unreachable(add_server, closed_port, make_sshd_host):
    unreachable = add_server(port=closed_port)
    with pytest.raises(ServerUnreachable):
        check_server.run(unreachable.pk)
    refused = add_server(make_sshd_host(authorized_keys=[]), name="web-2")
    assert check_server.run(refused.pk) == ServerStatus.AUTH_FAILED


def test_it_ignores_a_check_of_a_deleted_server(add_server):
    server = add_server()
    server.delete()
    assert check_server.run(server.pk or 0) is None


def test_it_checks_after_commit_when_a_manager_asks(
    cast, org_host, add_server, client_for, eager_celery, django_capture_on_commit_callbacks
):
    server = add_server(org_host)
    path = reverse("servers:check", args=["acme", server.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.manager).post(path)
    server.refresh_from_db()
    assert response.status_code == 302 and server.status == ServerStatus.CONNECTED


def test_it_checks_a_new_server_added_through_the_page(
    cast, org_host, client_for, eager_celery, django_capture_on_commit_callbacks
):
    form = {"name": "web-1", "host": org_host.host, "port": org_host.port, "user": org_host.user}
    with django_capture_on_commit_callbacks(execute=True):
        client_for(cast.manager).post(reverse("servers:create", args=["acme"]), form)
    server = Server.objects.get(organization=cast.org, name="web-1")
    assert server.status == ServerStatus.CONNECTED and server.host_key_fingerprint
