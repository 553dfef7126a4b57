"""Invitations: create (and e-mail), revoke, accept.

The link carries a random 32-byte token; only its SHA-256 is stored, so a database leak does not
hand out working links. A link is single-use, expires after INVITATION_TTL, and works only for the
e-mail address it was sent to.

A person without an account accepts by creating one on the invitation page
(`invitation_signup`): the link was mailed to the invited address, so opening it proves that
address, and the new account is verified and joins at once, with no organization of its own.
"""

from __future__ import annotations

import hashlib
import secrets
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tenancy.audit import Actor, audit_record
from tenancy.identity import normalize_identity
from tenancy.models import Invitation, Membership, Organization, User
from tenancy.roles import Cap, Role, assignable_roles, can, outranks
from tenancy.services.team import role_from_input

INVITATION_TTL = timedelta(days=7)


def token_hash(token: str) -> str:
    """The stored form of an invitation token."""
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_get_by_token(token: str) -> Invitation | None:
    """The invitation a link points at (in any state), or None."""
    return (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=token_hash(token))
        .first()
    )


def invitation_link(token: str) -> str:
    """The absolute URL of the invitation page for `token`."""
    return settings.PUBLIC_URL.rstrip("/") + reverse("invitation", kwargs={"token": token})


def _actor_membership(actor: Actor, organization: Organization) -> Membership:
    """The actor's membership, locked and re-read, with the capability to manage members."""
    # Locking the organization row serializes invitation changes per organization, so two
    # admins inviting the same address at once cannot leave two pending invitations.
    Organization.objects.select_for_update().filter(pk=organization.pk).exists()
    me = (
        Membership.objects.select_for_update()
        .filter(organization=organization, user=actor.user)
        .order_by("pk")
        .first()
    )
    if me is None or not can(me.role, Cap.MANAGE_MEMBERS):
        raise PermissionDenied("Your role cannot manage members.")
    return me


def _send_invitation(invitation: Invitation, token: str) -> None:
    context = {
        "invitation": invitation,
        "organization": invitation.organization,
        "role": Role(invitation.role).label,
        "link": invitation_link(token),
    }
    subject = render_to_string("emails/invitation_subject.txt", context).strip()
    body = render_to_string("emails/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email], fail_silently=False)


def _new_invitation(
    actor: Actor, organization: Organization, email: str, role: Role
) -> tuple[Invitation, str]:
    """A new pending invitation and its token (shown once, in the e-mail; only a hash is kept)."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by=actor.user,
        created_at=now,
        expires_at=now + INVITATION_TTL,
    )
    return invitation, token


@transaction.atomic
def invitation_create(
    *, actor: Actor, organization: Organization, email: str, role: int
) -> Invitation:
    """Invite `email` to `organization` as `role` and e-mail the single-use link. Audited.

    `role` must be strictly below the actor's rank and never Owner (PermissionDenied). Inviting an
    address with a pending invitation replaces it: the old link stops working.
    """
    new_role = role_from_input(role)
    me = _actor_membership(actor, organization)
    if new_role == Role.OWNER or new_role not in assignable_roles(me.role):
        raise PermissionDenied("You can only invite with a role below your own rank.")
    email = email.strip().lower()
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member."})
    replaced = Invitation.objects.filter(
        organization=organization, email__iexact=email, accepted_at=None, revoked_at=None
    ).update(revoked_at=timezone.now())
    invitation, token = _new_invitation(actor, organization, email, new_role)
    audit_record(
        actor=actor,
        organization=organization,
        verb="invitation.create",
        target=invitation,
        after={"email": email, "role": new_role.label, "replaced": replaced},
    )
    # Sent last and inside the transaction: if the mail server refuses, no invitation exists
    # that nobody was told about, and the inviter sees the error.
    try:
        _send_invitation(invitation, token)
    except (smtplib.SMTPException, OSError) as exc:
        raise ValidationError(f"The invitation e-mail could not be sent ({exc}).") from exc
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: Actor, invitation: Invitation) -> Invitation:
    """Revoke a pending invitation (only for roles below the actor's rank). Audited."""
    me = _actor_membership(actor, invitation.organization)
    if not outranks(me.role, invitation.role):
        raise PermissionDenied("You can only revoke invitations below your own rank.")
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ValidationError("This invitation is no longer pending.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        organization=invitation.organization,
        verb="invitation.revoke",
        target=invitation,
        before={"email": invitation.email, "role": Role(invitation.role).label},
    )
    return invitation


def invitation_problem(invitation: Invitation) -> str:
    """Why this invitation can no longer be accepted, or "" when it can."""
    if invitation.accepted_at is not None:
        return "This invitation has already been used."
    if invitation.revoked_at is not None:
        return "This invitation has been revoked."
    if invitation.expires_at <= timezone.now():
        return "This invitation has expired. Ask for a new one."
    return ""


def _pending_invitation(token: str) -> Invitation:
    """The invitation of `token`, locked, or ValidationError saying why it cannot be used."""
    invitation = Invitation.objects.select_for_update().filter(token_hash=token_hash(token)).first()
    if invitation is None:
        raise ValidationError("This invitation link is not valid.")
    problem = invitation_problem(invitation)
    if problem:
        raise ValidationError(problem)
    return invitation


def _join(actor: Actor, invitation: Invitation) -> Membership:
    """Add the actor to the invitation's organization and spend the invitation. Audited."""
    user = actor.user
    membership = Membership.objects.create(
        user=user, organization=invitation.organization, role=invitation.role
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        actor=actor,
        organization=invitation.organization,
        verb="invitation.accept",
        target=invitation,
        after={"email": user.email, "role": Role(invitation.role).label},
    )
    return membership


def invitation_account_exists(invitation: Invitation) -> bool:
    """Whether the invited address already has an account (it then logs in to accept)."""
    return User.objects.filter(email=normalize_identity(invitation.email)).exists()


@transaction.atomic
def invitation_signup(*, token: str, name: str, password: str, ip: str | None = None) -> User:
    """Create the invited person's account and join the organization in one step. Audited.

    The address is the invitation's, never typed: the link reached that mailbox, so the account
    is verified. Refused (ValidationError) when the invitation cannot be used or the address
    already has an account (that person logs in and accepts instead).
    """
    invitation = _pending_invitation(token)
    email = normalize_identity(invitation.email)
    if User.objects.filter(email=email).exists():
        raise ValidationError(f"{email} already has an account: log in to accept.")
    user = User.objects.create_user(email=email, password=password, name=name,
                                    email_verified=True)
    actor = Actor(user=user, ip=ip)
    audit_record(actor=actor, organization=None, verb="account.signup", target=user,
                 after={"invitation": invitation.pk})
    _join(actor, invitation)
    return user


@transaction.atomic
def invitation_accept(*, actor: Actor, token: str) -> Membership:
    """Join the invitation's organization as the logged-in `actor`. Audited.

    Refused (ValidationError) when used, revoked, expired, or the user is already a member;
    PermissionDenied when the actor's e-mail is not the invited address.
    """
    invitation = _pending_invitation(token)
    user = actor.user
    if not user.email_verified:
        raise ValidationError("Confirm your e-mail address first: open the link we sent you.")
    if user.email.lower() != invitation.email.lower():
        raise PermissionDenied("This invitation was sent to another e-mail address.")
    if Membership.objects.filter(organization=invitation.organization, user=user).exists():
        raise ValidationError("You are already a member of this organization.")
    return _join(actor, invitation)
