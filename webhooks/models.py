"""Git webhooks: each site's signing secret, and a record of every delivery.

The tables keep the names they had when these models lived in the sites app
(webhooks/migrations/0001_initial.py moved them without touching the database).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenancy.crypto import EncryptedTextField


class WebhookSecret(models.Model):
    """The shared secret a site's git host signs deliveries with (encrypted at rest)."""

    site = models.OneToOneField("sites.Site", on_delete=models.CASCADE,
                                related_name="webhook_secret")
    secret = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "sites_webhooksecret"

    def __str__(self) -> str:
        # Never the secret: str() reaches audit rows and log lines.
        return f"webhook secret of site {self.site_id}"

    def __repr__(self) -> str:
        return f"<WebhookSecret site={self.site_id}>"


class Decision(models.TextChoices):
    DEPLOYED = "deployed", "Deployed"
    IGNORED = "ignored", "Ignored"
    REFUSED = "refused", "Refused"
    DUPLICATE = "duplicate", "Duplicate"
    STALE = "stale", "Stale"


# Decisions of a verified delivery that keep its id and body claimed: acted on, or refused as a
# stale push by its deploy (webhooks/receivers.py); another copy of it is a duplicate.
ACTED_ON = ["deployed", "ignored", "stale"]


class WebhookDelivery(models.Model):
    """One request to /hooks/<site>/<provider>, whatever became of it."""

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE,
                             related_name="webhook_deliveries")
    provider = models.CharField(max_length=20)
    event = models.CharField(max_length=100, blank=True)
    delivery_id = models.CharField(max_length=100, blank=True)
    branch = models.CharField(max_length=200, blank=True)
    commit = models.CharField(max_length=64, blank=True)
    # SHA-256 of the raw body: what the provider signed, so a replay under a fresh delivery id
    # (GitHub and others do not sign the id) is still recognised (webhooks/receive.py).
    body_digest = models.CharField(max_length=64, blank=True)
    signature_ok = models.BooleanField(default=False)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.CharField(max_length=200, blank=True)
    deployment = models.ForeignKey("deployments.Deployment", on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    remote_ip = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "sites_webhookdelivery"
        ordering = ["-received_at", "-id"]
        constraints = [
            # A delivery id and a signed body are claimed only by a VERIFIED delivery that was
            # acted on (ACTED_ON), so a forged request cannot squat the id of a real delivery
            # that has not arrived yet, and a redelivery (or 20 concurrent copies, or a replay
            # of a captured body with a new id, at any of the site's endpoints) deploys once.
            models.UniqueConstraint(
                fields=["site", "delivery_id"],
                condition=Q(signature_ok=True, decision__in=ACTED_ON),
                name="webhook_delivery_id_once",
            ),
            models.UniqueConstraint(
                fields=["site", "body_digest"],
                condition=Q(signature_ok=True, decision__in=ACTED_ON)
                & ~Q(body_digest=""),
                name="webhook_delivery_body_once",
            ),
        ]
        indexes = [models.Index(fields=["site", "-received_at"], name="webhook_site_recent")]

    def __str__(self) -> str:
        return f"{self.provider} {self.delivery_id or '-'}: {self.reason or self.decision}"
