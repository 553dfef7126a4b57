"""Writes for servers and organization SSH keys: atomic, audited, enqueueing only after commit."""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from servers.checks import CheckOutcome, check_connection
from servers.models import DEFAULT_SUPERVISOR_CONFIG, OrganizationKey, Server, ServerStatus
from servers.signals import server_check_requested
from servers.ssh import SSHTarget, fingerprint, generate_keypair
from servers.validators import clean_server_fields
from tenancy.audit import Actor, audit_record
from tenancy.models import Organization, User

DUPLICATE_NAME = "A server with this name already exists in this organization."
REPIN_STALE = "The server now presents a different host key; check it again before re-pinning."
OLD_KEY_NOTE = (
    "Logged in with the previous organization key: authorize the new key on this server "
    "before the old one can be retired."
)


# Organization SSH keys ----------------------------------------------------------------------


def organization_key_create(org: Organization) -> OrganizationKey:
    """Generate the organization's first ed25519 key pair (an ORGANIZATION_CREATED_HOOKS entry)."""
    return _new_key(org)


def _new_key(org: Organization) -> OrganizationKey:
    private, public = generate_keypair(comment=f"deploynix@{org.slug}")
    return OrganizationKey.objects.create(
        organization=org, public_key=public, private_key=private, fingerprint=fingerprint(public)
    )


@sensitive_variables()
def org_client_keys(org: Organization) -> tuple[str, ...]:
    """Private keys (OpenSSH text) the organization may log in with, the active key first."""
    return tuple(
        key.private_key for key in OrganizationKey.objects.filter(organization=org).valid()
    )


@transaction.atomic
def organization_key_rotate(*, org: Organization, actor: Actor) -> OrganizationKey:
    """Make a new active key; the previous one stays valid until every server accepts the new.

    Audited as `ssh_key.rotate`. Requires Cap.ORG_SETTINGS (checked by the caller's view).
    """
    _lock_keys_of(org)
    current = OrganizationKey.objects.filter(organization=org, superseded_at__isnull=True).first()
    if current is not None:
        current.superseded_at = timezone.now()
        current.save(update_fields=["superseded_at"])
    new = _new_key(org)
    audit_record(
        actor=actor,
        organization=org,
        verb="ssh_key.rotate",
        target=new,
        before={"fingerprint": current.fingerprint if current else None},
        after={"fingerprint": new.fingerprint},
    )
    retire_superseded_keys(org)
    return new


def _lock_keys_of(org: Organization) -> None:
    """Serialize key changes per organization by locking its row until the transaction ends.

    Two rotations would otherwise both supersede the same key (and collide on the one-active
    constraint), and two checks finishing together would each miss the other's server and
    never retire the old key. Queries after the lock see what the other transaction committed.
    """
    Organization.objects.select_for_update().filter(pk=org.pk).first()


def retire_superseded_keys(org: Organization) -> list[OrganizationKey]:
    """Retire superseded keys once every server has logged in with the active key. Audited.

    Call inside a transaction.
    """
    _lock_keys_of(org)
    active = OrganizationKey.objects.filter(organization=org, superseded_at__isnull=True).first()
    pending = OrganizationKey.objects.filter(
        organization=org, superseded_at__isnull=False, retired_at__isnull=True
    )
    if active is None or not pending.exists():
        return []
    if Server.objects.for_org(org).exclude(authenticated_key=active).exists():
        return []
    retired = list(pending)
    for key in retired:
        key.retired_at = timezone.now()
        key.save(update_fields=["retired_at"])
        audit_record(
            actor=Actor.system(),
            organization=org,
            verb="ssh_key.retire",
            target=key,
            after={"fingerprint": key.fingerprint, "active": active.fingerprint},
        )
    return retired


# Servers: create, update, delete ------------------------------------------------------------

SERVER_FIELDS = ("name", "host", "port", "user", "deploy_roots", "supervisor_config")


def _audit_fields(server: Server) -> dict[str, Any]:
    return {name: getattr(server, name) for name in SERVER_FIELDS}


def _save_unique(server: Server, **save_kwargs: Any) -> None:
    """Save, turning the per-organization unique name into a field error (races included)."""
    taken = Server.objects.for_org(server.organization).filter(name=server.name)
    if taken.exclude(pk=server.pk).exists():
        raise ValidationError({"name": [DUPLICATE_NAME]})
    try:
        with transaction.atomic():
            server.save(**save_kwargs)
    except IntegrityError:
        raise ValidationError({"name": [DUPLICATE_NAME]}) from None


@transaction.atomic
def server_create(
    *, org: Organization, actor: Actor, name: str, host: str, port: Any = 22, user: str = "root",
    deploy_roots: Any = (), supervisor_config: str = DEFAULT_SUPERVISOR_CONFIG,
) -> Server:
    """Add a server to `org` (ValidationError with a field dict if any value is bad). Audited.

    A first connection check is enqueued after commit: it pins the host key (trust on first use).
    """
    fields = clean_server_fields({"name": name, "host": host, "port": port, "user": user,
                                  "deploy_roots": list(deploy_roots or []),
                                  "supervisor_config": supervisor_config})
    added_by = actor.user if isinstance(actor.user, User) else None
    server = Server(organization=org, added_by=added_by, **fields)
    _save_unique(server)
    audit_record(
        actor=actor,
        organization=org,
        verb="server.create",
        target=server,
        after=_audit_fields(server),
    )
    enqueue_check(server)
    return server


@transaction.atomic
def server_update(*, server: Server, actor: Actor, **changes: Any) -> Server:
    """Change name/host/port/user/deploy roots (validated like creation). Audited with before
    and after. Sites already on the server are checked against new roots at their next deploy.

    The pinned host key is kept: if the new address is another machine, the next check reports
    host_key_changed and a manager decides to re-pin. A changed address is re-checked.
    """
    fields = clean_server_fields(changes)
    before = _audit_fields(server)
    for name, value in fields.items():
        setattr(server, name, value)
    _save_unique(server)
    after = _audit_fields(server)
    if before != after:
        audit_record(
            actor=actor,
            organization=server.organization,
            verb="server.update",
            target=server,
            before=before,
            after=after,
        )
    if any(before[name] != after[name] for name in ("host", "port", "user")):
        enqueue_check(server)
    return server


@transaction.atomic
def server_delete(*, server: Server, actor: Actor) -> None:
    """Delete the server. Audited. May complete a pending key rotation (one server fewer)."""
    org = server.organization
    audit_record(
        actor=actor,
        organization=org,
        verb="server.delete",
        target=server,
        before=_audit_fields(server),
    )
    server.delete()
    retire_superseded_keys(org)


# Connection checks and host keys -------------------------------------------------------------


def enqueue_check(server: Server) -> None:
    """Have `check_server(server.id)` queued once the current transaction commits
    (server_check_requested: servers/tasks.py sends the task)."""
    server_id = server.pk
    transaction.on_commit(
        lambda: server_check_requested.send(sender=Server, server_id=server_id)
    )


@transaction.atomic
def server_check_request(*, server: Server, actor: Actor) -> None:
    """Ask for a connection check (Cap.MANAGE_SERVERS). Audited; runs in a worker after commit."""
    audit_record(actor=actor, organization=server.organization, verb="server.check", target=server)
    enqueue_check(server)


@sensitive_variables()
def server_ssh_target(server: Server) -> SSHTarget:
    """How to reach `server`: its pinned host key and every valid key of its organization."""
    return SSHTarget(
        host=server.host,
        port=server.port,
        username=server.user,
        client_keys=org_client_keys(server.organization),
        host_key=server.host_key or None,
    )


# sensitive_variables: Django error reports (debug pages, admin mails) must not show the keys.
@sensitive_variables()
def server_check(server: Server) -> str:
    """Connect to `server` with only its organization's keys, probe it, store the result.

    First success pins the presented host key; a different key later is refused before login
    (status host_key_changed). Returns the new status. Not audited: the request is.
    """
    keys = list(OrganizationKey.objects.filter(organization_id=server.organization_id).valid())
    target = server_ssh_target(server)
    # The active key alone first: a success proves the server accepts it (see rotation);
    # only if refused do we fall back to keys from before a rotation.
    key_sets = [(keys[0].private_key,)] if keys else []
    if len(keys) > 1:
        key_sets.append(tuple(key.private_key for key in keys[1:]))
    outcome = asyncio.run(check_connection(target, key_sets))
    used = keys[0] if outcome.key_index == 0 else None
    return _store_outcome(server, outcome, used_key=used, pinned=target.host_key or "")


@transaction.atomic
def _store_outcome(
    server: Server, outcome: CheckOutcome, *, used_key: OrganizationKey | None, pinned: str
) -> str:
    row = Server.objects.select_for_update().filter(pk=server.pk).first()
    if row is None:  # deleted while we were checking
        return outcome.status
    row.status = outcome.status
    row.last_checked_at = timezone.now()
    row.last_check_error = outcome.error
    row.presented_host_key = outcome.presented_host_key
    if outcome.status == ServerStatus.CONNECTED:
        row.facts = outcome.facts
        row.stack = outcome.stack
        row.authenticated_key = used_key
        if used_key is None:
            row.last_check_error = OLD_KEY_NOTE
        # Pin on first use, unless someone pinned a key while this check ran.
        if not row.host_key and not pinned:
            row.host_key = outcome.host_key
            row.host_key_fingerprint = outcome.host_key_fingerprint
    row.save()
    _copy_state(row, server)
    if outcome.status == ServerStatus.CONNECTED:
        retire_superseded_keys(server.organization)
    return row.status


def _copy_state(source: Server, target: Server) -> None:
    for field in Server._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


@transaction.atomic
def server_repin(*, server: Server, actor: Actor, presented_fingerprint: str = "") -> Server:
    """Re-pin the host key (Cap.MANAGE_SERVERS, audited), explicitly.

    With `presented_fingerprint`: pin the key the server presented at its last check, which must
    still have that fingerprint (what the manager confirmed). Without: forget the pin, so the
    next check trusts whatever key the server presents first.
    """
    row = Server.objects.select_for_update().get(pk=server.pk)
    before = {"fingerprint": row.host_key_fingerprint or None}
    if presented_fingerprint:
        if (
            not row.presented_host_key
            or fingerprint(row.presented_host_key) != presented_fingerprint
        ):
            raise ValidationError(REPIN_STALE)
        row.host_key, row.host_key_fingerprint = row.presented_host_key, presented_fingerprint
    else:
        row.host_key, row.host_key_fingerprint = "", ""
    row.presented_host_key = ""
    row.status = ServerStatus.NEW
    row.last_check_error = ""
    row.save()
    _copy_state(row, server)
    audit_record(
        actor=actor,
        organization=row.organization,
        verb="server.repin",
        target=row,
        before=before,
        after={"fingerprint": row.host_key_fingerprint or None},
    )
    enqueue_check(row)
    return server
