"""Keeping `UserSession` rows in step with the session store.

A row is written when a user logs in (the `user_logged_in` signal, connected in apps.py),
dropped when they log out (`user_logged_out`), and
its `last_seen_at` is refreshed by the middleware at most once a minute, the time of the last
refresh kept in the session itself, so a page view costs no extra query. Ending a session deletes
it from the session store (the browser is logged out on its next request) and drops its row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from importlib import import_module

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tenancy.models import User, UserSession

SEEN_KEY = "_deploynix_seen"
SEEN_EVERY_SECONDS = 60
USER_AGENT_LENGTH = 300


def _store(session_key: str):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)


def session_record(request: HttpRequest, user: User) -> None:
    """Create or refresh the row of the request's session for `user`."""
    key = request.session.session_key
    if not key:
        return
    UserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH],
            "ip": request.META.get("REMOTE_ADDR") or None,
            "last_seen_at": timezone.now(),
        },
    )
    request.session[SEEN_KEY] = int(time.time())


def on_user_logged_in(sender, request: HttpRequest | None, user: User, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        session_record(request, user)


def on_user_logged_out(sender, request: HttpRequest | None, user: User | None, **kwargs) -> None:
    """A logged-out session leaves the list at once (the store forgets it too)."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key).delete()


def session_rekey(old_key: str | None, new_key: str | None) -> None:
    """Follow a session whose key was cycled (update_session_auth_hash) to its new key."""
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


def sessions_end(rows: Iterable[UserSession]) -> list[int]:
    """End these sessions in the store and drop their rows; their row ids, for the audit."""
    ended = []
    for row in rows:
        _store(row.session_key).delete()
        ended.append(row.pk)
        row.delete()
    return ended


def session_alive(row: UserSession) -> bool:
    return _store(row.session_key).exists(row.session_key)


class SessionActivityMiddleware:
    """Refresh the current session's `last_seen_at`, at most once a minute."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            seen = request.session.get(SEEN_KEY, 0)
            if time.time() - seen > SEEN_EVERY_SECONDS:
                session_record(request, user)
        return self.get_response(request)
