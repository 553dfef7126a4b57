"""Notification channels: where deployment events of a site or an organization are sent."""

from __future__ import annotations

from django.db import models
from django.db.models import Q, Subquery
from django.utils import timezone

from sites.models import Site
from tenancy.crypto import EncryptedTextField
from tenancy.models import Organization


class Event(models.TextChoices):
    STARTED = "started", "Deployment started"
    SUCCEEDED = "succeeded", "Deployment succeeded"
    FAILED = "failed", "Deployment failed"
    ROLLED_BACK = "rolled_back", "Rolled back"
    CANCELLED = "cancelled", "Deployment cancelled"
    # A deploy waits for an approver (deployments/gates.py); approvers are also e-mailed.
    APPROVAL_REQUESTED = "approval_requested", "Approval requested"
    # Deploys that never went live, each with its reason (the payload's `reason`).
    SKIPPED = "skipped", "Deploy skipped (already live)"
    REJECTED = "rejected", "Deploy rejected"
    EXPIRED = "expired", "Approval expired"
    HELD = "held", "Deploy held by a freeze window"


class ChannelKind(models.TextChoices):
    SLACK = "slack", "Slack (incoming webhook)"
    DISCORD = "discord", "Discord (incoming webhook)"
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook (signed JSON)"


def default_events() -> list[str]:
    return [Event.SUCCEEDED, Event.FAILED, Event.ROLLED_BACK]


class ChannelQuerySet(models.QuerySet):
    def for_org(self, org: Organization) -> ChannelQuerySet:
        """Only the channels of `org` (its own and its sites')."""
        return self.filter(organization=org)

    def listening_to(self, site: Site) -> ChannelQuerySet:
        """Enabled channels of `site` and the organization-wide ones of its organization."""
        return self.filter(Q(site=site) | Q(site__isnull=True),
                           organization_id=site.organization_id, enabled=True)

    def listening_to_site_of(self, deployment: models.QuerySet) -> ChannelQuerySet:
        """`listening_to` the site of the one deployment `deployment` selects, found in the
        same statement (no deployment: none)."""
        return self.filter(Q(site_id=Subquery(deployment.values("site_id"))) | Q(site__isnull=True),
                           organization_id=Subquery(deployment.values("site__organization_id")),
                           enabled=True)


class Channel(models.Model):
    """One destination. `site` empty: every site of the organization."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="notification_channels"
    )
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="notification_channels"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    # The webhook URL (Slack and Discord URLs are credentials) or the e-mail addresses.
    target = EncryptedTextField()
    # Standard Webhooks signing secret (`whsec_<base64>`), for kind=webhook only.
    secret = EncryptedTextField(blank=True, default="")
    events = models.JSONField(default=default_events)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "site"], name="channel_scope")]

    def __str__(self) -> str:
        return self.name

    @property
    def target_display(self) -> str:
        """The target without its secret part: a webhook URL's path is its credential."""
        if self.kind == ChannelKind.EMAIL:
            return self.target
        scheme, _, rest = self.target.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}/…"

    @property
    def is_org_wide(self) -> bool:
        return self.site_id is None

    @property
    def event_labels(self) -> list[str]:
        return [Event(e).label for e in self.events if e in Event.values]

    @property
    def failing(self) -> bool:
        """The last attempt failed (no success since the last error)."""
        if self.last_error_at is None:
            return False
        return self.last_success_at is None or self.last_success_at < self.last_error_at
