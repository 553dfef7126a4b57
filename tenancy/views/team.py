"""The team page and its actions (one URL each, POST only); the invitation page is invitation.py.

What each member may do is computed here, once, from `roles`; templates only hide controls.
The services enforce the same rules again, so a forged POST is refused with 403 and audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tenancy.access import actor_for, audit_denied, org_object, org_view
from tenancy.forms_team import InviteForm, RoleForm, TransferForm
from tenancy.models import Invitation, Membership
from tenancy.roles import Cap, Role, assignable_roles, outranks
from tenancy.services.invitations import invitation_create, invitation_revoke
from tenancy.services.team import (
    member_change_role,
    member_leave,
    member_remove,
    ownership_transfer,
)


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    role_choices: list[Role]  # empty: the current member may not change this role
    removable: bool
    is_me: bool
    error: str = ""


@dataclass(frozen=True)
class InvitationRow:
    invitation: Invitation
    revocable: bool


def _member_rows(request: HttpRequest, errors: dict[int, str]) -> list[MemberRow]:
    me = request.membership
    members = Membership.objects.filter(organization=request.org).select_related("user")
    rows = []
    for member in members:
        manageable = request.can.manage_members and outranks(me.role, member.role)
        choices = assignable_roles(me.role) if manageable else []
        rows.append(
            MemberRow(member, choices, manageable, member.pk == me.pk, errors.get(member.pk, ""))
        )
    return rows


def _invitation_rows(request: HttpRequest) -> list[InvitationRow]:
    if not request.can.manage_members:
        return []
    pending = Invitation.objects.filter(
        organization=request.org,
        accepted_at=None,
        revoked_at=None,
        expires_at__gt=timezone.now(),
    ).select_related("invited_by")
    return [InvitationRow(i, outranks(request.membership.role, i.role)) for i in pending]


def _render_team(
    request: HttpRequest,
    *,
    status: int = 200,
    errors: dict[int, str] | None = None,
    invite_form: InviteForm | None = None,
    transfer_form: TransferForm | None = None,
) -> HttpResponse:
    """The team page, optionally with a bound form or a per-member error shown in place."""
    me, can = request.membership, request.can
    members = _member_rows(request, errors or {})
    context = {
        "members": members,
        "has_admins": any(row.membership.role == Role.ADMIN for row in members),
        "invitations": _invitation_rows(request),
        "invite_form": invite_form
        or (InviteForm(assignable=assignable_roles(me.role)) if can.manage_members else None),
        "transfer_form": transfer_form
        or (TransferForm(organization=request.org) if can.own else None),
        "can_leave": me.role != Role.OWNER,
    }
    return render(request, "team/members.html", context, status=status)


def _attempt(request: HttpRequest, cap: Cap, service: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a team service as the current member. A refusal leaves one trace: its audit event."""
    try:
        return service(actor=actor_for(request), **kwargs)
    except PermissionDenied as exc:
        # The service's transaction has already rolled back; the refusal is recorded outside it.
        audit_denied(request, request.membership, cap, detail=str(exc))
        raise


def _back_to_team(request: HttpRequest, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("team", org=request.org.slug)


@org_view(Cap.VIEW)
def team(request: HttpRequest) -> HttpResponse:
    """Members, pending invitations and the controls the current member may use."""
    return _render_team(request)


@require_POST
@org_view(Cap.MANAGE_MEMBERS)
def team_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST, assignable=assignable_roles(request.membership.role))
    if form.is_valid():
        try:
            _attempt(
                request,
                Cap.MANAGE_MEMBERS,
                invitation_create,
                organization=request.org,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _back_to_team(request, f"Invitation sent to {form.cleaned_data['email']}.")
    return _render_team(request, invite_form=form, status=400)


@require_POST
@org_view(Cap.MANAGE_MEMBERS)
def team_role(request: HttpRequest, member_id: int) -> HttpResponse:
    member = org_object(Membership, request.membership, pk=member_id)
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["role"])
        member = _attempt(
            request,
            Cap.MANAGE_MEMBERS,
            member_change_role,
            member=member,
            role=form.cleaned_data["role"],
        )
    except ValidationError as exc:
        return _render_team(request, errors={member.pk: " ".join(exc.messages)}, status=400)
    return _back_to_team(request, f"{member.user.email} is now {member.role_label}.")


@require_POST
@org_view(Cap.MANAGE_MEMBERS)
def team_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    member = org_object(Membership, request.membership, pk=member_id)
    try:
        _attempt(request, Cap.MANAGE_MEMBERS, member_remove, member=member)
    except ValidationError as exc:
        return _render_team(request, errors={member.pk: " ".join(exc.messages)}, status=400)
    return _back_to_team(request, f"{member.user.email} was removed.")


@require_POST
@org_view(Cap.VIEW)
def team_leave(request: HttpRequest) -> HttpResponse:
    _attempt(request, Cap.VIEW, member_leave, organization=request.org)
    messages.success(request, f"You left {request.org.name}.")
    return redirect("home")


@require_POST
@org_view(Cap.OWN)
def team_transfer(request: HttpRequest) -> HttpResponse:
    form = TransferForm(request.POST, organization=request.org)
    if form.is_valid():
        try:
            new_owner = _attempt(
                request, Cap.OWN, ownership_transfer, member=form.cleaned_data["member"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _back_to_team(request, f"{new_owner.user.email} is now the Owner.")
    return _render_team(request, transfer_form=form, status=400)


@require_POST
@org_view(Cap.MANAGE_MEMBERS)
def team_invite_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = org_object(Invitation, request.membership, pk=invitation_id)
    try:
        _attempt(request, Cap.MANAGE_MEMBERS, invitation_revoke, invitation=invitation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("team", org=request.org.slug)
    return _back_to_team(request, f"Invitation for {invitation.email} revoked.")
