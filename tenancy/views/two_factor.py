"""Setting up, using and removing two-factor authentication (TOTP + recovery codes)."""

from __future__ import annotations

from base64 import b32encode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tenancy import throttle
from tenancy.access import actor_for
from tenancy.forms_account import CodeForm, PasswordConfirmForm
from tenancy.models import Organization
from tenancy.services.two_factor import (
    recovery_codes_regenerate,
    totp_pending,
    two_factor_disable,
    two_factor_enable,
)
from tenancy.two_factor import has_two_factor


def _requiring_org(request: HttpRequest) -> Organization | None:
    """The organization that sent the user here (?org=), when it is theirs and requires 2FA."""
    return Organization.objects.filter(
        slug=request.GET.get("org", ""), memberships__user=request.user, require_two_factor=True
    ).first()


def _errors(form) -> list[str]:
    return [str(e) for errors in form.errors.values() for e in errors]


def _grouped(secret: bytes) -> str:
    text = b32encode(secret).decode().rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set-up (QR code + confirming code) when off; status, new codes and removal when on."""
    context = {"requiring_org": _requiring_org(request)}
    if has_two_factor(request.user):
        context["confirm_codes"] = PasswordConfirmForm(user=request.user, auto_id="codes_%s")
        context["confirm_off"] = PasswordConfirmForm(user=request.user, auto_id="off_%s")
        return render(request, "account/two_factor_on.html", context)
    device = totp_pending(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor_enable(actor=actor_for(request), user=request.user,
                                      code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc)
        else:
            return render(request, "account/recovery_codes.html", {"codes": codes, **context})
    # segno writes an <svg> of paths only (no script, no style attribute the CSP would refuse).
    qr = mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4, border=2))  # noqa: S308
    context.update(form=form, qr=qr, secret=_grouped(device.bin_key))
    return render(request, "account/two_factor_setup.html", context,
                  status=400 if form.errors else 200)


@login_required
@require_POST
def two_factor_off(request: HttpRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST, user=request.user)
    if not throttle.password_checked(request, form):
        messages.error(request, "Two-factor stays on: " + " ".join(_errors(form)))
        return redirect("account-two-factor")
    two_factor_disable(actor=actor_for(request), user=request.user)
    messages.success(request, "Two-factor authentication is off.")
    return redirect("account")


@never_cache
@login_required
@require_POST
def two_factor_codes(request: HttpRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST, user=request.user)
    if not has_two_factor(request.user) or not throttle.password_checked(request, form):
        messages.error(request, "The recovery codes were not changed: " + " ".join(_errors(form)))
        return redirect("account-two-factor")
    codes = recovery_codes_regenerate(actor=actor_for(request), user=request.user)
    return render(request, "account/recovery_codes.html", {"codes": codes})
