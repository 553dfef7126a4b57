"""Deployments: the single source of truth for every deploy and rollback, its steps and its log."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from deploynix.models import Organization, User
from sites.models import Site


class Kind(models.TextChoices):
    DEPLOY = "deploy", "Deploy"
    ROLLBACK = "rollback", "Rollback"


class Trigger(models.TextChoices):
    MANUAL = "manual", "Manual"
    WEBHOOK = "webhook", "Git push"
    API = "api", "API"
    SCHEDULE = "schedule", "Schedule"
    CLI = "cli", "Command line"


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    TIMED_OUT = "timed_out", "Timed out"


FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.TIMED_OUT)


def format_duration(duration: timedelta | None) -> str:
    """`42s`, `3m 05s`, `1h 02m`; "" for None."""
    if duration is None:
        return ""
    seconds = max(0, int(duration.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


class DeploymentQuerySet(models.QuerySet):
    def for_org(self, org: Organization) -> DeploymentQuerySet:
        """Only the deployments of `org`."""
        return self.filter(organization=org)


class Deployment(models.Model):
    """One deploy or rollback of a site. Its status column is what every process believes."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="deployments")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="deployments"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DEPLOY)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    triggered_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    triggered_by_name = models.CharField(max_length=254)  # frozen: survives user deletion
    branch = models.CharField(max_length=200)
    # Requested commit while queued ("" = branch head), then the exact SHA deployed.
    commit_sha = models.CharField(max_length=64, blank=True)
    commit_message = models.TextField(blank=True)
    commit_author = models.CharField(max_length=254, blank=True)
    # UTC YYYYMMDDHHMMSS: assigned when a deploy starts; for a rollback, the target release.
    release = models.CharField(max_length=14, blank=True)
    previous_release = models.CharField(max_length=14, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    failed_step = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    # The fencing token of this deployment's lease on the site (Site.deploy_epoch at claim).
    # The server-side lock names it; a command carrying an older epoch is refused there.
    epoch = models.PositiveBigIntegerField(default=0)

    objects = DeploymentQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            # The lock: at most one running deployment per site, held by the database.
            models.UniqueConstraint(
                fields=["site"],
                condition=Q(status="running"),
                name="one_running_deployment_per_site",
            ),
            models.UniqueConstraint(
                fields=["site", "release"],
                condition=Q(kind="deploy") & ~Q(release=""),
                name="deploy_release_unique_per_site",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "status", "id"], name="deployment_site_status"),
            models.Index(fields=["organization", "-id"], name="deployment_org_recent"),
            models.Index(fields=["status", "heartbeat_at"], name="deployment_status_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} of {self.site_id}"

    @property
    def duration(self) -> timedelta | None:
        """Wall time from start to finish (or to now while running)."""
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def duration_text(self) -> str:
        """`1m 05s` style, for tables ("" before the start)."""
        return format_duration(self.duration)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def short_commit(self) -> str:
        return self.commit_sha[:7]

    @property
    def group_name(self) -> str:
        return f"deployment-{self.pk}"


class DeploymentStep(models.Model):
    """One step of a deployment on one server (or on none, for steps that run once)."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=100)
    server = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, default="running")
    order = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["deployment", "order"]

    def __str__(self) -> str:
        return f"{self.name} on {self.server}" if self.server else self.name

    @property
    def duration(self) -> timedelta | None:
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def duration_text(self) -> str:
        return format_duration(self.duration)


class LogLine(models.Model):
    """One line of output. `seq` is gapless per deployment and assigned only by the sink."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="log_lines")
    seq = models.PositiveIntegerField()
    server = models.CharField(max_length=100, blank=True)
    stream = models.CharField(max_length=4)  # out | err | info
    text = models.TextField()
    ts = models.DateTimeField()

    class Meta:
        ordering = ["deployment", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "seq"], name="log_line_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.seq}: {self.text[:80]}"
