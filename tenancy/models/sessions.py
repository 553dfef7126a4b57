"""The log-in sessions of a user, so they can be listed and ended one by one."""

from __future__ import annotations

import re

from django.db import models
from django.utils import timezone

from tenancy.models.orgs import User

# First match wins: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux"))


def _first(user_agent: str, table: tuple[tuple[str, str], ...]) -> str:
    return next((name for marker, name in table if re.search(re.escape(marker), user_agent)), "")


class UserSession(models.Model):
    """One logged-in browser: its session key (the session store's), device and last activity.

    Kept beside the session store rather than read out of it: the store keeps the user id
    only inside each encoded session (listing a user's sessions would decode every session of
    every user) and records neither the browser nor the address.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tracked_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at", "-id"]

    def __str__(self) -> str:
        return f"session of {self.user_id} from {self.ip or 'unknown address'}"

    @property
    def device(self) -> str:
        """A short "Firefox on Linux" for the session list (the full user agent is its title)."""
        browser = _first(self.user_agent, _BROWSERS) or "Unknown browser"
        system = _first(self.user_agent, _SYSTEMS)
        return f"{browser} on {system}" if system else browser
