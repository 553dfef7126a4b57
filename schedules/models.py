"""Scheduled deploys: a deploy of a site requested now, to be queued at a future time.

A recurring schedule (`cron` set) stays pending: each firing moves `run_at` to its next run.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from deployments.models import Deployment
from schedules.cron import describe
from sites.models import Site
from tenancy.models import Organization, User


class ScheduleStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    FIRED = "fired", "Fired"
    CANCELLED = "cancelled", "Cancelled"


class ScheduledDeployQuerySet(models.QuerySet):
    def for_org(self, org: Organization) -> ScheduledDeployQuerySet:
        """Only the schedules of `org`."""
        return self.filter(organization=org)

    def pending(self) -> ScheduledDeployQuerySet:
        return self.filter(status=ScheduleStatus.PENDING)


class ScheduledDeploy(models.Model):
    """One future deploy. Leaves `pending` exactly once: fired (by the beat) or cancelled."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="scheduled_deploys"
    )
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="scheduled_deploys")
    run_at = models.DateTimeField()
    commit = models.CharField(max_length=40, blank=True)  # "" = the branch head at run time
    # Five-field cron in the organization's time zone; "" = once, at run_at (schedules/cron.py).
    cron = models.CharField(max_length=100, blank=True)
    # The deploy runs with the creator's authority, re-checked when it fires.
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_name = models.CharField(max_length=254)  # frozen: survives user deletion
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=10, choices=ScheduleStatus.choices, default=ScheduleStatus.PENDING
    )
    fired_at = models.DateTimeField(null=True, blank=True)
    deployment = models.ForeignKey(
        Deployment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)

    objects = ScheduledDeployQuerySet.as_manager()

    class Meta:
        ordering = ["run_at", "id"]
        indexes = [models.Index(fields=["status", "run_at"], name="schedule_due")]

    def __str__(self) -> str:
        return f"Deploy of {self.site_id} at {self.run_at:%Y-%m-%d %H:%M %Z}"

    @property
    def short_commit(self) -> str:
        return self.commit[:7]

    @property
    def is_recurring(self) -> bool:
        return bool(self.cron)

    @property
    def cron_description(self) -> str:
        return describe(self.cron) if self.cron else ""

    @property
    def is_pending(self) -> bool:
        return self.status == ScheduleStatus.PENDING
