"""API tokens: act for one user in one organization, with abilities capped by the user's role.

Only a SHA-256 hash of the token is stored, plus a short lookup prefix (healthchecks' shape).
The plaintext is shown once, at creation.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Ability(models.TextChoices):
    SERVER_READ = "server:read", "Read servers"
    SERVER_WRITE = "server:write", "Add, edit and delete servers"
    SITE_READ = "site:read", "Read sites and deployments"
    SITE_WRITE = "site:write", "Create, edit and delete sites"
    SITE_DEPLOY = "site:deploy", "Deploy, cancel and roll back"


class ApiTokenQuerySet(models.QuerySet):
    def usable(self) -> ApiTokenQuerySet:
        """Tokens neither revoked nor expired (membership is checked per request)."""
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    user = models.ForeignKey(
        "deploynix.User", on_delete=models.CASCADE, related_name="api_tokens"
    )
    organization = models.ForeignKey(
        "deploynix.Organization", on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    # The first characters of the token, stored in clear so a request finds its row by index.
    prefix = models.CharField(max_length=16, unique=True)
    hash = models.CharField(max_length=64)
    abilities = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        # Never the hash: str() reaches audit rows and log lines.
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired
