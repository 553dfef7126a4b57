"""Organization SSH keys: generated with the organization, rotated, retired, never shown."""

from __future__ import annotations

from servers.models import OrganizationKey, Server
from servers.services import org_client_keys, organization_key_rotate
from servers.ssh import fingerprint
from tenancy.audit import Actor


def test_it_gives_every_new_organization_one_active_ed25519_key(cast):
    [key] = OrganizationKey.objects.filter(organization=cast.org)
    assert key.is_active and key.public_key.startswith("ssh-ed25519 ")
    assert key.public_key.endswith(" deploynix@acme")
    assert key.fingerprint == fingerprint(key.public_key)


def test_it_stores_the_private_key_encrypted(cast):
    from django.db import connection

    key = OrganizationKey.objects.get(organization=cast.org)
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_key FROM servers_organizationkey WHERE id = %s", [key.pk])
        [stored] = cursor.fetchone()
    assert "PRIVATE KEY" in key.private_key and "PRIVATE KEY" not in stored


def test_it_lists_the_active_key_first_after_a_rotation(cast):
    Server.objects.create(organization=cast.org, name="web", host="127.0.0.1")
    old = org_client_keys(cast.org)
    new_key = organization_key_rotate(org=cast.org, actor=Actor(user=cast.admin))
    keys = org_client_keys(cast.org)
    assert keys == (new_key.private_key, *old)


def test_it_never_puts_the_private_key_in_str_or_repr(cast):
    key = OrganizationKey.objects.get(organization=cast.org)
    body = key.private_key.splitlines()[1]
    assert body not in str(key) and body not in repr(key)


def test_it_retires_the_old_key_at_once_when_the_organization_has_no_servers(cast):
    old = OrganizationKey.objects.get(organization=cast.org)
    organization_key_rotate(org=cast.org, actor=Actor(user=cast.admin))
    old.refresh_from_db()
    assert old.retired_at is not None
    assert len(org_client_keys(cast.org)) == 1
