"""The account security page: password, two-factor status, sessions, recent account events."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tenancy import throttle
from tenancy.access import actor_for
from tenancy.models import AuditEvent, UserSession
from tenancy.services.account import password_change, sessions_revoke
from tenancy.sessions import session_alive, session_rekey
from tenancy.two_factor import has_two_factor

RECENT_EVENTS = 10


def _sessions(request: HttpRequest) -> list[UserSession]:
    """The user's live sessions (rows whose session expired or was flushed are dropped)."""
    rows = list(UserSession.objects.filter(user=request.user))
    dead = [row.pk for row in rows if not session_alive(row)]
    if dead:
        UserSession.objects.filter(pk__in=dead).delete()
    return [row for row in rows if row.pk not in dead]


@never_cache
@login_required
def account_security(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.filter(
        actor=request.user, organization=None, verb__startswith="account."
    )[:RECENT_EVENTS]
    return render(request, "account/security.html", {
        "sessions": _sessions(request),
        "current_key": request.session.session_key,
        "two_factor": has_two_factor(request.user),
        "events": events,
    })


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_password(request: HttpRequest) -> HttpResponse:
    """Change the password (the current one required); this session stays, the others end."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and throttle.password_checked(request, form):
        actor = actor_for(request)
        user = password_change(actor=actor, form=form)
        old_key = request.session.session_key
        update_session_auth_hash(request, user)
        session_rekey(old_key, request.session.session_key)
        ended = sessions_revoke(actor=actor, user=user, keep_key=request.session.session_key)
        messages.success(request, f"Password changed. Other sessions ended: {ended}.")
        return redirect("account")
    return render(request, "account/password.html", {"form": form})


@login_required
@require_POST
def account_session_revoke(request: HttpRequest, session_id: int) -> HttpResponse:
    ended = sessions_revoke(actor=actor_for(request), user=request.user,
                            keep_key=request.session.session_key, session_id=session_id)
    messages.success(request, "Session ended." if ended else "That session had already ended.")
    return redirect("account")


@login_required
@require_POST
def account_sessions_revoke_others(request: HttpRequest) -> HttpResponse:
    ended = sessions_revoke(actor=actor_for(request), user=request.user,
                            keep_key=request.session.session_key)
    messages.success(request, f"Other sessions ended: {ended}.")
    return redirect("account")
