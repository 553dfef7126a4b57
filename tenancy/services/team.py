"""Team changes: role changes, removal, leaving and ownership transfer.

Every service re-reads the acting member's role from the database under a row lock, so a role
that changed a moment ago (or a concurrent change of the same member) cannot be used to escalate.
Rank violations raise PermissionDenied (403); bad input raises ValidationError.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from tenancy.audit import Actor, audit_record
from tenancy.models import Membership, Organization
from tenancy.roles import Cap, Role, assignable_roles, can, outranks


def _locked_pair(actor: Actor, member: Membership) -> tuple[Membership, Membership]:
    """The actor's and the target's memberships, both locked and freshly read."""
    # Lock in primary-key order so two concurrent team changes cannot deadlock.
    rows = (
        Membership.objects.select_for_update()
        .filter(Q(pk=member.pk) | Q(user_id=actor.user.pk), organization_id=member.organization_id)
        .order_by("pk")
    )
    by_pk = {row.pk: row for row in rows}
    me = next((row for row in by_pk.values() if row.user_id == actor.user.pk), None)
    if me is None:
        raise PermissionDenied("You are not a member of this organization.")
    target = by_pk.get(member.pk)
    if target is None:
        raise ValidationError("This person is no longer a member.")
    return me, target


def _locked_self(actor: Actor, organization: Organization) -> Membership:
    """The actor's own membership, locked."""
    me = (
        Membership.objects.select_for_update()
        .filter(organization=organization, user=actor.user)
        .order_by("pk")
        .first()
    )
    if me is None:
        raise PermissionDenied("You are not a member of this organization.")
    return me


def require_rank(me: Membership, target: Membership, new_role: int | None = None) -> None:
    """Refuse (PermissionDenied) unless `me` may manage `target` (and grant `new_role`)."""
    if not can(me.role, Cap.MANAGE_MEMBERS):
        raise PermissionDenied(f"Your role ({me.role_label}) cannot manage members.")
    if Role.OWNER in (target.role, new_role):
        raise PermissionDenied("The Owner role changes hands only by an ownership transfer.")
    if not outranks(me.role, target.role):
        raise PermissionDenied("You can only manage members below your own rank.")
    if new_role is not None and new_role not in assignable_roles(me.role):
        raise PermissionDenied("You can only grant roles below your own rank.")


def role_from_input(role: int | str) -> Role:
    """The Role for a submitted value; ValidationError on the `role` field for anything else."""
    try:
        return Role(int(role))
    except (TypeError, ValueError):
        raise ValidationError({"role": "Choose one of the listed roles."}) from None


@transaction.atomic
def member_change_role(*, actor: Actor, member: Membership, role: int) -> Membership:
    """Give `member` a new role. Only below the actor's rank, never to or from Owner. Audited."""
    new_role = role_from_input(role)
    me, target = _locked_pair(actor, member)
    require_rank(me, target, new_role)
    if target.role == new_role:
        return target
    before = Role(target.role).label
    target.role = new_role
    target.save(update_fields=["role"])
    audit_record(
        actor=actor,
        organization=target.organization,
        verb="member.role_change",
        target=target.user,
        before={"role": before},
        after={"role": new_role.label},
    )
    return target


@transaction.atomic
def member_remove(*, actor: Actor, member: Membership) -> None:
    """Remove `member` from the organization. Only members below the actor's rank. Audited."""
    me, target = _locked_pair(actor, member)
    require_rank(me, target)
    target.delete()
    audit_record(
        actor=actor,
        organization=me.organization,
        verb="member.remove",
        target=target.user,
        before={"role": Role(target.role).label},
    )


@transaction.atomic
def member_leave(*, actor: Actor, organization: Organization) -> None:
    """The actor leaves `organization`. The Owner cannot leave: transfer ownership first."""
    me = _locked_self(actor, organization)
    if me.role == Role.OWNER:
        raise PermissionDenied("The Owner cannot leave; transfer ownership to an Admin first.")
    me.delete()
    audit_record(
        actor=actor,
        organization=organization,
        verb="member.leave",
        target=actor.user,
        before={"role": Role(me.role).label},
    )


@transaction.atomic
def ownership_transfer(*, actor: Actor, member: Membership) -> Membership:
    """Make `member` (an Admin) the Owner; the old Owner becomes an Admin. Audited.

    Exactly one Owner at every moment: the partial unique constraint allows one Owner row, so
    the old Owner is demoted before the new one is promoted, both inside this transaction.
    """
    me, target = _locked_pair(actor, member)
    if me.role != Role.OWNER:
        raise PermissionDenied("Only the Owner can transfer ownership.")
    if target.role != Role.ADMIN:
        raise ValidationError({"member": "Ownership can only go to an Admin."})
    me.role = Role.ADMIN
    me.save(update_fields=["role"])
    target.role = Role.OWNER
    target.save(update_fields=["role"])
    audit_record(
        actor=actor,
        organization=me.organization,
        verb="organization.transfer",
        target=target.user,
        before={"owner": actor.user.email},
        after={"owner": target.user.email},
    )
    return target
