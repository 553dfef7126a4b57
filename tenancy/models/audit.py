"""The audit log: one row per change or refused attempt."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tenancy.models.orgs import Organization, User


class AuditEvent(models.Model):
    """One change (or refused attempt), written in the same transaction as the change."""

    class Source(models.TextChoices):
        WEB = "web"
        API = "api"
        WEBHOOK = "webhook"
        SYSTEM = "system"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_events", null=True
    )
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_name = models.CharField(max_length=254)  # frozen: survives renames and deletions
    verb = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="audit_org_time")]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.verb} {self.target_repr}"
