"""Confirming an e-mail address with the signed link sent at sign-up, and sending it again."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tenancy import throttle
from tenancy.access import actor_for
from tenancy.audit import Actor
from tenancy.services.account import email_verify
from tenancy.services.signup import user_from_verification, verification_send
from tenancy.views.auth import TOO_MANY, safe_next


def signup_verify(request: HttpRequest, token: str) -> HttpResponse:
    """Opening the link verifies the address (idempotent, so a mail scanner's visit is harmless)."""
    user = user_from_verification(token)
    if user is None:
        return render(request, "auth/verify_failed.html", status=400)
    email_verify(actor=Actor(user=user, ip=actor_for(request).ip), user=user)
    messages.success(request, "Your e-mail address is confirmed.")
    target = safe_next(request) or "/"
    if request.user.is_authenticated and request.user.pk == user.pk:
        return redirect(target)
    return redirect_to_login(target)


@login_required
@require_POST
def signup_verify_resend(request: HttpRequest) -> HttpResponse:
    if throttle.hit(request, throttle.SIGNUP_PER_IP):
        messages.error(request, TOO_MANY)
    elif not request.user.email_verified:
        try:
            verification_send(request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"We sent a new link to {request.user.email}.")
    return redirect("org-create")
