"""Throttles of the account pages, on the shared cache (Redis), through django-ratelimit.

Two kinds of use: `blocked` + `count_failure` for log-in (only failures count, checked before
the attempt, so a locked account refuses even the right password), and `hit` for sign-up and
password reset (every request counts). Account keys always go through `normalize_identity`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from tenancy.identity import normalize_identity


@dataclass(frozen=True)
class Throttle:
    group: str
    rate_setting: str  # the name of the setting holding the rate ("10/5m")
    by: str  # "ip", "user" (the logged-in user), or the POST field holding an e-mail address

    def key(self, group: str, request: HttpRequest) -> str:
        if self.by == "ip":
            return request.META.get("REMOTE_ADDR") or ""
        if self.by == "user":
            return normalize_identity(request.user.email)
        return normalize_identity(request.POST.get(self.by))

    def usage(self, request: HttpRequest, *, increment: bool) -> dict | None:
        rate = getattr(settings, self.rate_setting)
        return get_usage(request, group=self.group, key=self.key, rate=rate, increment=increment)


LOGIN_PER_ACCOUNT = Throttle("login-account", "LOGIN_RATE_LIMIT", "username")
# Re-typing the password on the account pages (change it, turn two-factor off, new recovery
# codes): the same counter as the log-in form, so a stolen session cannot guess the password.
PASSWORD_CONFIRM = Throttle("login-account", "LOGIN_RATE_LIMIT", "user")
LOGIN_PER_IP = Throttle("login-ip", "LOGIN_IP_RATE_LIMIT", "ip")
SIGNUP_PER_IP = Throttle("signup-ip", "SIGNUP_RATE_LIMIT", "ip")
RESET_PER_IP = Throttle("reset-ip", "PASSWORD_RESET_RATE_LIMIT", "ip")
RESET_PER_ACCOUNT = Throttle("reset-account", "PASSWORD_RESET_RATE_LIMIT", "email")


def blocked(request: HttpRequest, *throttles: Throttle) -> bool:
    """True when any throttle's count already reached its limit (counts nothing)."""
    for throttle in throttles:
        usage = throttle.usage(request, increment=False)
        if usage is not None and usage["count"] >= usage["limit"]:
            return True
    return False


def count_failure(request: HttpRequest, *throttles: Throttle) -> None:
    for throttle in throttles:
        throttle.usage(request, increment=True)


def password_checked(request: HttpRequest, form) -> bool:
    """Validate a form that checks the logged-in user's password, under PASSWORD_CONFIRM.

    False (and the form carries an error) when the account is locked or the form is invalid;
    an invalid form counts as a failed password.
    """
    if blocked(request, PASSWORD_CONFIRM):
        form.is_valid()
        form.add_error(None, "Too many wrong passwords. Wait a few minutes and try again.")
        return False
    if form.is_valid():
        return True
    count_failure(request, PASSWORD_CONFIRM)
    return False


def hit(request: HttpRequest, *throttles: Throttle) -> bool:
    """Count this request against every throttle; True when any is now over its limit."""
    over = False
    for throttle in throttles:
        usage = throttle.usage(request, increment=True)
        over = over or bool(usage and usage["should_limit"])
    return over
