"""The log-in sessions of a user, so they can be listed and ended one by one."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tenancy.models.orgs import User


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
