"""Deployments: the single source of truth for every deploy and rollback, its steps and its log."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from sites.models import EnvironmentVersion, Site
from tenancy.crypto import EncryptedTextField
from tenancy.models import ApiToken, Organization, User
from tenancy.roles import Role


class Kind(models.TextChoices):
    DEPLOY = "deploy", "Deploy"
    ROLLBACK = "rollback", "Rollback"
    # Sets the site up on its servers (servers/provision/): user, PHP-FPM pool, nginx block.
    PROVISION = "provision", "Provision"


class Trigger(models.TextChoices):
    MANUAL = "manual", "Manual"
    WEBHOOK = "webhook", "Git push"
    API = "api", "API"
    SCHEDULE = "schedule", "Schedule"
    CLI = "cli", "Command line"


class Authority(models.TextChoices):
    """Whose right to deploy a queued deployment rests on, checked again when it starts."""

    NONE = "", "The panel itself"  # command line, system
    MEMBER = "member", "A member"  # the requester (or a schedule's creator) must still deploy
    TOKEN = "token", "An API token"  # the token must still be usable, its user still deploy
    WEBHOOK = "webhook", "The site's webhook"  # auto-deploy must still be on


class Status(models.TextChoices):
    # Waiting at a gate (deployments/gates.py): never sent to a worker, never claimed.
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    HELD = "held", "Held by a freeze"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    TIMED_OUT = "timed_out", "Timed out"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Approval expired"
    # The commit was already live everywhere and the deploy was not forced: nothing switched.
    SKIPPED = "skipped", "Skipped"


FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.TIMED_OUT,
            Status.REJECTED, Status.EXPIRED, Status.SKIPPED)
# Requested and not started: at most one such deployment per site (the newest request).
WAITING = (Status.AWAITING_APPROVAL, Status.HELD, Status.QUEUED)


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
    authority = models.CharField(max_length=10, choices=Authority.choices, blank=True)
    api_token = models.ForeignKey(
        ApiToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    branch = models.CharField(max_length=200)
    # Requested commit while queued ("" = branch head), then the exact SHA deployed.
    commit_sha = models.CharField(max_length=64, blank=True)
    commit_message = models.TextField(blank=True)
    commit_author = models.CharField(max_length=254, blank=True)
    # UTC YYYYMMDDHHMMSS: assigned when a deploy starts; for a rollback, the target release.
    release = models.CharField(max_length=14, blank=True)
    previous_release = models.CharField(max_length=14, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
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

    # The gates (deployments/gates.py). The approval the site required when this was requested
    # (a role; null: none), until when, and who answered; the freeze override's reason; the
    # freeze window that holds it.
    approval_role = models.PositiveSmallIntegerField(null=True, blank=True)
    approval_expires_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by_name = models.CharField(max_length=254, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    freeze_override = models.CharField(max_length=500, blank=True)
    held_by = models.CharField(max_length=300, blank=True)

    # The deployment's number within its site (1, 2, ...): what pages and the audit log call it.
    # Assigned by deployments/services.py under the site row lock; 0 only for rows made elsewhere.
    number = models.PositiveIntegerField(default=0)
    # The environment version this deployment wrote into its release (a rollback: the one its
    # target release was deployed with); empty for deployments from before versions existed.
    env_version = models.ForeignKey(
        EnvironmentVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # Deploy even when the commit is already live (else it ends `skipped`, "already live").
    force = models.BooleanField(default=False)
    # What was live when the deployment started (deployments/baseline.py): the commit the
    # release diff starts from, and which environment key names the version it ships
    # (env_version) adds, removes or changes against the live release's (never a value).
    base_commit = models.CharField(max_length=64, blank=True)
    env_changes = models.JSONField(default=dict, blank=True)
    # For kind provision: the steps to run (servers/provision/steps.py names); empty: all.
    provision_steps = models.JSONField(default=list, blank=True)

    objects = DeploymentQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "number"],
                condition=Q(number__gt=0),
                name="deployment_number_unique_per_site",
            ),
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
            # A site's newest deployments (history, the site page, each site's last deployment
            # on the dashboard) and the one live there: read in index order, never sorted.
            models.Index(fields=["site", "-id"], name="deployment_site_recent"),
            models.Index(fields=["site", "status", "-finished_at", "-id"],
                         name="deployment_site_live"),
            models.Index(fields=["organization", "-id"], name="deployment_org_recent"),
            models.Index(fields=["status", "heartbeat_at"], name="deployment_status_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label} of {self.site.name}"

    @property
    def offers_redeploy(self) -> bool:
        """A finished deploy that resolved an exact commit can be deployed again (pinned)."""
        return (self.kind == Kind.DEPLOY and self.is_finished
                and len(self.commit_sha) == 40)

    @property
    def label(self) -> str:
        """"#N", N counted per site (the row id for a row made outside the services)."""
        return f"#{self.number or self.pk}"

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
    def is_rollback(self) -> bool:
        return self.kind == Kind.ROLLBACK

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def awaits_approval(self) -> bool:
        return self.status == Status.AWAITING_APPROVAL

    @property
    def approval_role_label(self) -> str:
        return Role(self.approval_role).label if self.approval_role else ""

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


class ServerReleaseFacts(models.Model):
    """The last observed truth about one site on one server (deployments/reconcile.py).

    The rows above are the journal of what was asked; this is what the server said: where
    `current` points and which releases are on disk with their REVISION. On a failed read,
    the last observation stays and `error` says why it could not be refreshed.
    """

    class Current(models.TextChoices):
        RELEASE = "release", "A release"
        NONE = "none", "No current"
        NOT_RELEASE = "not_release", "Not a release"  # a real directory, a foreign or dangling link

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="release_facts")
    server = models.ForeignKey(
        "servers.Server", on_delete=models.CASCADE, related_name="release_facts"
    )
    current = models.CharField(max_length=12, choices=Current.choices, default=Current.NONE)
    current_release = models.CharField(max_length=14, blank=True)
    current_target = models.CharField(max_length=1000, blank=True)  # `readlink current`, as is
    # [{"name": "<14 digits>", "commit": "<sha>" | null}, ...], oldest first.
    releases = models.JSONField(default=list)
    logged_releases = models.JSONField(null=True, blank=True)  # null: no releases.log
    # Where the server disagreed with the panel when observed (sentences, shown as is).
    drift = models.JSONField(default=list)
    observed_at = models.DateTimeField(null=True, blank=True)  # last successful read
    checked_at = models.DateTimeField(default=timezone.now)  # last attempt
    error = models.TextField(blank=True)  # why the last attempt failed ("" = it did not)

    class Meta:
        ordering = ["site", "server__name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "server"], name="release_facts_per_server"),
        ]

    def __str__(self) -> str:
        return f"{self.server_id} of site {self.site_id}: {self.current_release or self.current}"

    @property
    def release_names(self) -> list[str]:
        return [release["name"] for release in self.releases]

    def commit_of(self, name: str) -> str | None:
        return next((r.get("commit") for r in self.releases if r["name"] == name), None)


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` an API client sent with a request that queued `deployment`
    (deployments/idempotency.py): the same key again returns that deployment, for a day."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    api_token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and canonical JSON body: the same key with another request
    # is a client bug, answered 422.
    fingerprint = models.CharField(max_length=64)
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "api_token", "key"],
                                    name="idempotency_key_once"),
        ]
        indexes = [models.Index(fields=["api_token", "created_at"], name="idempotency_expiry")]

    def __str__(self) -> str:
        return f"idempotency key of token {self.api_token_id} -> {self.deployment_id}"


class ReleaseDiff(models.Model):
    """What changes from commit `base` to commit `target` of a site, read once from a server's
    git mirror (deployments/release_diff.py) and kept: the same pair never changes."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="release_diffs")
    base = models.CharField(max_length=64)
    target = models.CharField(max_length=64)
    # commits, areas, packages, migrations (deployments/pipeline/release_diff.py shapes them).
    data = models.JSONField(default=dict)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "base", "target"], name="release_diff_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.base[:7]}..{self.target[:7]} of site {self.site_id}"


class SiteProvisioning(models.Model):
    """A site's provisioning settings: Laravel's scheduler as the site user, and the HTTPS
    certificate the user uploaded (PEM, encrypted at rest; both empty: HTTP only).

    Its own table rather than columns of Site: on SQLite a new column rebuilds sites_site, which
    its same-organization triggers (sites/migrations/0007_site_servers_same_organization.py)
    do not survive."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="provisioning")
    scheduler_enabled = models.BooleanField(default=False)
    tls_certificate = EncryptedTextField(default="", blank=True)
    tls_private_key = EncryptedTextField(default="", blank=True)

    def __str__(self) -> str:
        return f"provisioning of {self.site}"


class ProvisionedServer(models.Model):
    """A site provisioned on a server: its unix user there (deploys run as it) and what the
    provisioning found (PHP versions, FPM service, extensions). Written by the provisioning job
    (deployments/provisioning.py); read by the context builder and the site page."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="provisioned")
    server = models.ForeignKey("servers.Server", on_delete=models.CASCADE, related_name="+")
    user = models.CharField(max_length=32)
    facts = models.JSONField(default=dict, blank=True)
    deployment = models.ForeignKey(Deployment, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    provisioned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "server"], name="provisioned_once_per_server"),
        ]

    def __str__(self) -> str:
        return f"{self.site} on {self.server} as {self.user}"
