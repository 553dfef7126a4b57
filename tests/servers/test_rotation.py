"""Key rotation against real sshd: the old key stays valid until every server uses the new one."""

from __future__ import annotations

import pytest

from servers.models import ServerStatus
from servers.services import (
    org_client_keys,
    organization_key_rotate,
    server_check,
    server_delete,
)
from tenancy.audit import Actor
from tenancy.models import AuditEvent

pytestmark = pytest.mark.ssh


@pytest.fixture
def two_servers(make_sshd_host, org_key, add_server):
    """Two servers on their own sshd hosts, both authorizing only the current key."""
    hosts = [make_sshd_host(authorized_keys=[org_key.public_key]) for _ in range(2)]
    servers = [add_server(host, name=f"web-{n}") for n, host in enumerate(hosts)]
    return list(zip(hosts, servers, strict=True))


def rotate(cast):
    return organization_key_rotate(org=cast.org, actor=Actor(user=cast.admin))


def test_it_keeps_the_old_key_while_a_server_has_not_used_the_new_one(cast, two_servers, org_key):
    new = rotate(cast)
    (first_host, first), (_second_host, second) = two_servers
    first_host.add_authorized_key(new.public_key)
    assert server_check(first) == ServerStatus.CONNECTED
    assert server_check(second) == ServerStatus.CONNECTED  # still logs in with the old key
    org_key.refresh_from_db()
    assert org_key.retired_at is None and "previous organization key" in second.last_check_error


def test_it_retires_the_old_key_once_every_server_used_the_new_one(cast, two_servers, org_key):
    new = rotate(cast)
    for host, server in two_servers:
        host.add_authorized_key(new.public_key)
        server_check(server)
    org_key.refresh_from_db()
    assert org_key.retired_at is not None
    assert org_client_keys(cast.org) == (new.private_key,)
    assert AuditEvent.objects.filter(verb="ssh_key.retire", target_id=str(org_key.pk)).exists()


def test_it_no_longer_logs_in_with_a_retired_key(cast, make_sshd_host, org_key, add_server):
    old_host = make_sshd_host(authorized_keys=[org_key.public_key])
    old_server = add_server(old_host, name="old")
    new = rotate(cast)
    server_check(add_server(make_sshd_host(authorized_keys=[new.public_key]), name="new"))
    server_delete(server=old_server, actor=Actor(user=cast.manager))  # the last one on the old key
    org_key.refresh_from_db()
    assert org_key.retired_at is not None
    assert server_check(add_server(old_host, name="again")) == ServerStatus.AUTH_FAILED


def test_it_audits_a_rotation_with_both_fingerprints(cast, org_key):
    new = rotate(cast)
    event = AuditEvent.objects.get(verb="ssh_key.rotate")
    assert event.before == {"fingerprint": org_key.fingerprint}
    assert event.after == {"fingerprint": new.fingerprint} and event.actor == cast.admin
