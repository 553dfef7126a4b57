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
    by: str  # "ip", or the POST field holding an e-mail address

    def key(self, group: str, request: HttpRequest) -> str:
        if self.by == "ip":
            return request.META.get("REMOTE_ADDR") or ""
        return normalize_identity(request.POST.get(self.by))

    def usage(self, request: HttpRequest, *, increment: bool) -> dict | None:
        rate = getattr(settings, self.rate_setting)
        return get_usage(request, group=self.group, key=self.key, rate=rate, increment=increment)


LOGIN_PER_ACCOUNT = Throttle("login-account", "LOGIN_RATE_LIMIT", "username")
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


def hit(request: HttpRequest, *throttles: Throttle) -> bool:
    """Count this request against every throttle; True when any is now over its limit."""
    over = False
    for throttle in throttles:
        usage = throttle.usage(request, increment=True)
        over = over or bool(usage and usage["should_limit"])
    return over
