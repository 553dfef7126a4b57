"""Servers an organization deploys to, and the organization's SSH key pairs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from servers.shell import join
from tenancy.crypto import EncryptedTextField
from tenancy.models import Organization, User


class ServerStatus(models.TextChoices):
    NEW = "new", "Not checked yet"
    CONNECTED = "connected", "Connected"
    UNREACHABLE = "unreachable", "Unreachable"
    AUTH_FAILED = "auth_failed", "Authentication failed"
    HOST_KEY_CHANGED = "host_key_changed", "Host key changed"


class ServerQuerySet(models.QuerySet):
    def for_org(self, org: Organization) -> ServerQuerySet:
        """Only the servers of `org`: the one way to start any server query."""
        return self.filter(organization=org)


# Where Debian's supervisor package keeps its configuration (conf.d/*.conf included).
DEFAULT_SUPERVISOR_CONFIG = "/etc/supervisor/supervisord.conf"


class Server(models.Model):
    """A machine reached over SSH with the organization's key, its host key pinned on first use."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="servers")
    name = models.CharField(max_length=100)
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(default=22)
    user = models.CharField(max_length=32, default="root")
    status = models.CharField(max_length=20, choices=ServerStatus.choices, default=ServerStatus.NEW)
    # The pinned host key (one OpenSSH public key line); empty = trust on first use.
    host_key = models.TextField(blank=True)
    host_key_fingerprint = models.CharField(max_length=100, blank=True)
    # What the server presented when it no longer matched the pin, so a manager can re-pin it.
    presented_host_key = models.TextField(blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_error = models.TextField(blank=True)
    facts = models.JSONField(default=dict, blank=True)
    # nginx server blocks, PHP-FPM masters and notes from the last successful check
    # (servers/stack/store.py): pages judge each site's stack from this without SSH.
    stack = models.JSONField(default=dict, blank=True)
    # The organization key that last logged in successfully; drives key-rotation retirement.
    authenticated_key = models.ForeignKey(
        "OrganizationKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Directories a site's deploy path must lie under on this server ("~": the SSH user's
    # home); empty: settings.DEPLOY_ROOTS. Checked by the site services and again on the
    # server before every deploy (deployments/pipeline/scripts/guard.sh).
    deploy_roots = models.JSONField(default=list, blank=True)
    # The supervisord.conf whose conf.d/ gets the site's worker programs and whose socket
    # supervisorctl uses (deployments/pipeline/workers.py); None: Debian's package's. Nullable
    # without a default so SQLite adds the column in place: rebuilding this table under the
    # same-organization triggers (sites/migrations/0007_...) fails.
    supervisor_config = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001

    objects = ServerQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="server_name_per_org"),
            models.CheckConstraint(
                condition=Q(port__gte=1) & Q(port__lte=65535), name="server_port_range"
            ),
        ]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        """`user@host:port`, for display."""
        return f"{self.user}@{self.host}:{self.port}"

    @property
    def allowed_deploy_roots(self) -> tuple[str, ...]:
        """This server's deploy roots, or the installation's default ones."""
        return tuple(self.deploy_roots or settings.DEPLOY_ROOTS)

    @property
    def supervisor_config_path(self) -> str:
        """The supervisord.conf this server's site workers are installed under."""
        return self.supervisor_config or DEFAULT_SUPERVISOR_CONFIG

    @property
    def home(self) -> str:
        """The SSH user's home as the panel assumes it (the server resolves "~" itself)."""
        return "/root" if self.user == "root" else f"/home/{self.user}"

    @property
    def fingerprint_short(self) -> str:
        """The first characters of the pinned fingerprint, enough to recognise it in a list."""
        return self.host_key_fingerprint[:19]


class OrganizationKeyQuerySet(models.QuerySet):
    def valid(self) -> OrganizationKeyQuerySet:
        """Keys still allowed to log in: the active one, then superseded ones not yet retired."""
        return self.filter(retired_at__isnull=True).order_by(
            models.F("superseded_at").desc(nulls_first=True), "-created_at", "-id"
        )


class OrganizationKey(models.Model):
    """One ed25519 key pair the organization logs in with. The private half never leaves the server.

    Active: `superseded_at` is null (exactly one per organization). After a rotation the previous
    key stays valid (`retired_at` null) until every server has logged in with the new one.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="ssh_keys"
    )
    public_key = models.TextField()
    private_key = EncryptedTextField(editable=False)
    fingerprint = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    superseded_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = OrganizationKeyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(superseded_at__isnull=True),
                name="one_active_key_per_org",
            ),
        ]
        ordering = ["-created_at", "-id"]

    # Both str() and repr() name the key by fingerprint only: the private key must never
    # reach a log line, an error message or an audit event through an accidental format.
    def __str__(self) -> str:
        return f"SSH key {self.fingerprint}"

    def __repr__(self) -> str:
        return f"<OrganizationKey {self.pk} {self.fingerprint}>"

    @property
    def is_active(self) -> bool:
        return self.superseded_at is None

    @property
    def is_valid(self) -> bool:
        return self.retired_at is None

    @property
    def authorize_command(self) -> str:
        """The shell line a person runs on a server to authorize this key (quoted by shlex)."""
        return (
            "mkdir -p ~/.ssh && " + join(["echo", self.public_key]) + " >> ~/.ssh/authorized_keys"
        )
