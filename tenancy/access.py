"""The one access module: every view, API call and WebSocket resolves tenancy through here.

Rules: an anonymous user or a non-member gets 404 for anything inside an organization (we do not
confirm that it exists); a member whose role lacks the capability gets 403. Objects are always
fetched through their organization, so another organization's id is indistinguishable from a
missing one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from tenancy.audit import Actor, audit_record
from tenancy.models import AuditEvent, Membership
from tenancy.roles import Cap, can, capabilities_of
from tenancy.two_factor import two_factor_missing

M = TypeVar("M", bound=models.Model)


class Permissions:
    """What the current member may do, for templates (`can.deploy`) to hide buttons."""

    def __init__(self, role: int) -> None:
        self._caps = capabilities_of(role)

    def __getattr__(self, name: str) -> bool:
        try:
            return Cap(name) in self._caps
        except ValueError:
            raise AttributeError(name) from None


def membership_get(user: Any, org_slug: str) -> Membership:
    """The user's membership in the organization `org_slug`; Http404 for anyone else."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise Http404("No such organization")
    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(user=user, organization__slug=org_slug)
        .first()
    )
    if membership is None:
        raise Http404("No such organization")
    return membership


def org_object(model: type[M], membership: Membership, **lookup: Any) -> M:
    """Fetch one object of `model` inside the member's organization, or 404."""
    obj = model.objects.filter(organization_id=membership.organization_id, **lookup).first()
    if obj is None:
        raise Http404("Not found")
    return obj


def actor_for(request: HttpRequest) -> Actor:
    return Actor(user=request.user, source=AuditEvent.Source.WEB, ip=client_ip(request))


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def org_view(cap: Cap) -> Callable:
    """Decorate a view taking `org` (a slug) from the URL.

    Anonymous users are sent to log in; non-members get 404; Owners and Admins of an
    organization that requires two-factor are sent to set it up until they have; members
    without `cap` get 403 (and a refused POST is audited). The view receives
    `request.membership`, `request.org` and `request.can`.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, org: str, *args: Any, **kwargs: Any):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_get(request.user, org)
            if two_factor_missing(membership):
                setup = reverse("account-two-factor")
                return redirect(f"{setup}?org={membership.organization.slug}")
            if not can(membership.role, cap):
                if request.method not in ("GET", "HEAD", "OPTIONS"):
                    audit_denied(request, membership, cap)
                raise PermissionDenied(f"Your role ({membership.role_label}) cannot do this.")
            request.membership = membership
            request.org = membership.organization
            request.can = Permissions(membership.role)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def audit_denied(request: HttpRequest, membership: Membership, cap: Cap, detail: str = "") -> None:
    """Leave the only trace of a refused attempt: an audit event (outside any rolled-back work)."""
    audit_record(
        actor=actor_for(request),
        organization=membership.organization,
        verb="permission.denied",
        after={"capability": str(cap), "path": request.path, "detail": detail},
    )
