"""A Site: one application, its repository, how to build it and which servers run it."""

from __future__ import annotations

import json
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from sites import validators as v
from tenancy.crypto import EncryptedTextField
from tenancy.models import Organization, User
from tenancy.roles import APPROVAL_ROLES

DEFAULT_RELOAD_COMMAND = ["sudo", "-n", "systemctl", "reload", "php8.2-fpm"]
HEALTH_CHECK_FIELDS = (
    "health_check_enabled", "health_check_path", "health_check_status", "health_check_body",
    "health_check_timeout", "health_check_scheme", "health_check_address", "health_check_port",
)
# The approval rule (deployments/gates.py); setting it needs Cap.SITE_GATES.
GATE_FIELDS = ("approval_role", "approval_hours")
# The health check's bounds (deployments/pipeline/health.py probes with them).
HEALTH_TIMEOUT_MAX = 30
APPROVAL_HOURS_MAX = 24 * 14
APPROVAL_HOURS_DEFAULT = 24
HEALTH_PATH = RegexValidator(
    r"^/[\x21-\x7e]*\Z", "A path starting with /, printable ASCII only (no spaces)."
)
HEALTH_BODY = RegexValidator(r"^[^\x00-\x1f\x7f]*\Z", "One line of text, no control characters.")
HEALTH_ADDRESS = RegexValidator(
    r"^[A-Za-z0-9.:-]*\Z", "A host name or an IP address (empty: the server's address)."
)


def default_shared_dirs() -> list[str]:
    return ["storage"]


def default_shared_files() -> list[str]:
    return [".env"]


def default_reload_command() -> list[str]:
    return list(DEFAULT_RELOAD_COMMAND)


class SiteQuerySet(models.QuerySet):
    def for_org(self, org: Organization) -> SiteQuerySet:
        """Only the sites of `org`: every read of sites starts here."""
        return self.filter(organization=org)


class Site(models.Model):
    class Preset(models.TextChoices):
        LARAVEL = "laravel", "Laravel"
        PHP = "php", "Plain PHP"
        NONE = "none", "None (custom script only)"

    class ReloadMethod(models.TextChoices):
        PHP_FPM = "php-fpm", "Reload PHP-FPM"
        OCTANE = "octane", "Reload Laravel Octane"
        NONE = "none", "None"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=100)
    domain = models.CharField(max_length=253, blank=True)
    repository_url = models.CharField(max_length=500)
    branch = models.CharField(max_length=200, default="main")
    deploy_path = models.CharField(max_length=500)
    web_dir = models.CharField(max_length=200, default="public")
    shared_dirs = models.JSONField(default=default_shared_dirs, blank=True)
    shared_files = models.JSONField(default=default_shared_files, blank=True)
    # JSON object {NAME: value}, Fernet-encrypted as a whole.
    environment = EncryptedTextField(default="{}", blank=True)
    # Names of variables the user marked secret (besides those sites/secrets.py recognises).
    secret_env_names = models.JSONField(default=list, blank=True)
    releases_to_keep = models.PositiveSmallIntegerField(default=5)
    preset = models.CharField(max_length=10, choices=Preset.choices, default=Preset.LARAVEL)
    run_migrations = models.BooleanField(default=True)
    build_commands = models.JSONField(default=list, blank=True)
    deploy_script = models.TextField(blank=True)
    reload_method = models.CharField(
        max_length=10, choices=ReloadMethod.choices, default=ReloadMethod.PHP_FPM
    )
    reload_command = models.JSONField(default=default_reload_command, blank=True)
    servers = models.ManyToManyField("servers.Server", related_name="sites")
    # The health gate: probed on the new release before the switch, and live after it.
    health_check_enabled = models.BooleanField(default=False)
    health_check_path = models.CharField(max_length=200, default="/", validators=[HEALTH_PATH])
    health_check_status = models.PositiveSmallIntegerField(
        default=200, validators=[MinValueValidator(100), MaxValueValidator(599)]
    )
    health_check_body = models.CharField(max_length=200, blank=True, validators=[HEALTH_BODY])
    health_check_timeout = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(HEALTH_TIMEOUT_MAX)]
    )
    # How the live probe (run on each server) reaches that server's web server.
    health_check_scheme = models.CharField(
        max_length=5, choices=[("http", "http"), ("https", "https")], default="http"
    )
    health_check_address = models.CharField(
        max_length=253, blank=True, validators=[HEALTH_ADDRESS]
    )
    health_check_port = models.PositiveIntegerField(
        default=80, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    # Deploys wait for approval by a member of this role or higher (not the requester);
    # empty: no approval (deployments/gates.py). Unanswered requests expire after the hours.
    approval_role = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=[(r.value, r.label) for r in APPROVAL_ROLES]
    )
    # Empty: APPROVAL_HOURS_DEFAULT. Nullable without a default on purpose: adding such a
    # column needs no rebuild of this table on SQLite, whose rebuild would break the triggers
    # of sites/migrations/0007_site_servers_same_organization.py.
    approval_hours = models.PositiveSmallIntegerField(
        null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(APPROVAL_HOURS_MAX)],
    )
    webhook_uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    auto_deploy = models.BooleanField(default=False)
    deploy_key_public = models.TextField(editable=False)
    deploy_key_private = EncryptedTextField(editable=False)
    repository_host_keys = models.TextField(blank=True)
    https_token = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    # Raised by one for every lease on the site's servers (each claimed deployment, each
    # reconcile): the fencing token the server-side lock compares (deployments.pipeline.lock).
    deploy_epoch = models.PositiveBigIntegerField(default=0, editable=False)
    # Set once the site has had a worker: from then on every deploy installs the site's
    # workers on its servers, so one deleted there is removed too (sites/workers.py).
    # Nullable (None: never) so SQLite adds the column in place: rebuilding this table under
    # the same-organization triggers (migrations/0007_...) fails.
    workers_managed = models.BooleanField(null=True, editable=False)

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="site_name_unique_per_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        """Save, never writing `deploy_epoch` nor `workers_managed`: they only move by atomic
        updates (deployments.lifecycle, sites.services.worker_create), and a stale copy saved
        back would move them backwards."""
        if self.pk is not None and kwargs.get("update_fields") is None and not kwargs.get(
            "force_insert"
        ):
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in ("deploy_epoch", "workers_managed")
            ]
        super().save(*args, **kwargs)

    @property
    def approval_expiry_hours(self) -> int:
        """How long a request for approval waits before it expires."""
        return self.approval_hours or APPROVAL_HOURS_DEFAULT

    @property
    def env(self) -> dict[str, str]:
        """The decrypted environment as a dict (names in the order they were entered)."""
        return json.loads(self.environment or "{}")

    @env.setter
    def env(self, values: dict[str, str]) -> None:
        self.environment = json.dumps(values)

    @property
    def env_names(self) -> list[str]:
        return list(self.env)

    def clean(self) -> None:
        """Normalize every user-supplied setting through sites.validators (also cross-field)."""
        errors: dict[str, list[str]] = {}

        def normalized(field: str, value, clean, **options):
            try:
                return clean(value, **options)
            except ValidationError as exc:
                errors[field] = exc.messages
                return value

        self.repository_url = normalized(
            "repository_url", self.repository_url, v.clean_repository_url
        )
        self.branch = normalized("branch", self.branch, v.clean_branch)
        self.deploy_path = normalized("deploy_path", self.deploy_path, v.clean_deploy_path)
        self.web_dir = normalized(
            "web_dir", self.web_dir, v.clean_relative_path, what="web directory", allow_root=True
        )
        self.env = normalized("environment", self.env, v.clean_environment)
        self.secret_env_names = normalized(
            "secret_env_names", self.secret_env_names or [], v.clean_secret_env_names
        )
        self.build_commands = normalized(
            "build_commands", self.build_commands or [], v.clean_build_commands
        )
        self.deploy_script = normalized(
            "deploy_script", self.deploy_script, v.clean_deploy_script
        )
        self.repository_host_keys = normalized(
            "repository_host_keys", self.repository_host_keys, v.clean_known_hosts
        )
        self.releases_to_keep = normalized(
            "releases_to_keep", self.releases_to_keep, v.clean_releases_to_keep
        )
        if self.reload_method == self.ReloadMethod.PHP_FPM:
            self.reload_command = normalized(
                "reload_command", self.reload_command or [], v.clean_reload_command
            )
        try:
            self.shared_dirs, self.shared_files = v.clean_shared_paths(
                self.shared_dirs or [], self.shared_files or []
            )
        except ValidationError as exc:
            errors["shared_dirs"] = exc.messages
        if errors:
            raise ValidationError(errors)



class FreezeWindow(models.Model):
    """A time when deploys of a site (or of every site of the organization, `site` empty) are
    frozen: triggered ones are held, manual ones need an override (deployments/gates.py).

    One-off (`starts_at`..`ends_at`, instants) or weekly (`days` at `start_time`..`end_time`,
    wall-clock times in `time_zone`; an end at or before the start runs past midnight).
    When a window is active is decided in sites/freezes.py.
    """

    class Kind(models.TextChoices):
        ONCE = "once", "One-off"
        WEEKLY = "weekly", "Weekly"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="freeze_windows")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="freeze_windows")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    time_zone = models.CharField(max_length=64, default="UTC")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    days = models.JSONField(default=list, blank=True)  # weekly: 0 = Monday … 6 = Sunday
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)
    created_by_name = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "site"], name="freeze_window_scope")]

    def __str__(self) -> str:
        return self.name


class Worker(models.Model):
    """A long-running process of a site (a queue worker, an Octane server) that the site's
    servers run from `current` under supervisor (or systemd) and every deploy restarts."""

    class Kind(models.TextChoices):
        COMMAND = "command", "Command (e.g. a queue worker)"
        OCTANE = "octane", "Laravel Octane server"

    class OctaneServer(models.TextChoices):
        FRANKENPHP = "frankenphp", "FrankenPHP"
        SWOOLE = "swoole", "Swoole"
        ROADRUNNER = "roadrunner", "RoadRunner"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="workers")
    name = models.CharField(max_length=v.WORKER_NAME_MAX, validators=[v.WORKER_NAME])
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COMMAND)
    octane_server = models.CharField(
        max_length=12, choices=OctaneServer.choices, default=OctaneServer.FRANKENPHP
    )
    # Where an Octane server without a command of its own listens (on 127.0.0.1).
    octane_port = models.PositiveIntegerField(
        default=8000, validators=[MinValueValidator(v.OCTANE_PORT_MIN),
                                  MaxValueValidator(v.OCTANE_PORT_MAX)]
    )
    # Run without a shell, from <deploy path>/current (an Octane server without one gets
    # `php artisan octane:start`).
    command = models.CharField(max_length=v.WORKER_COMMAND_MAX, blank=True)
    processes = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(v.WORKER_PROCESSES_MAX)]
    )
    stop_wait_seconds = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(v.WORKER_STOP_WAIT_MAX)]
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="worker_name_unique_per_site"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_octane(self) -> bool:
        return self.kind == self.Kind.OCTANE

    def clean(self) -> None:
        """The command must be one program line; an Octane server runs one process."""
        try:
            self.command = v.clean_worker_command(self.command, required=not self.is_octane)
        except ValidationError as exc:
            raise ValidationError({"command": exc.messages}) from None
        if self.is_octane and self.processes != 1:
            raise ValidationError({"processes": [
                "An Octane server is one process (it runs its own workers)."
            ]})


class EnvironmentVersion(models.Model):
    """One saved state of a site's environment: what each deploy ships into its release.

    Numbered per site (1, 2, ...). The values are encrypted like Site.environment; the names
    added, removed and changed against the version before are kept in plain text (names only,
    never values) for pages and the audit log. A deployment records the version it shipped.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="env_versions")
    number = models.PositiveIntegerField()
    environment = EncryptedTextField(default="{}", blank=True)  # JSON {NAME: value}
    secret_env_names = models.JSONField(default=list, blank=True)
    added = models.JSONField(default=list, blank=True)
    removed = models.JSONField(default=list, blank=True)
    changed = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_name = models.CharField(max_length=254, blank=True)  # survives user deletion

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["site", "number"], name="env_version_unique_per_site"),
        ]

    def __str__(self) -> str:
        return f"environment v{self.number} of {self.site_id}"

    @property
    def env(self) -> dict[str, str]:
        return json.loads(self.environment or "{}")


class SiteHook(models.Model):
    """A script run at one named point of the deploy pipeline (deployments/pipeline/hooks.py)."""

    class Point(models.TextChoices):
        AFTER_FETCH = "after_fetch", "After fetch"
        BEFORE_SWITCH = "before_switch", "Before switch"
        AFTER_SWITCH = "after_switch", "After switch"
        AFTER_CLEANUP = "after_cleanup", "After cleanup"
        ON_FAILURE = "on_failure", "On failure"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="hooks")
    point = models.CharField(max_length=20, choices=Point.choices)
    script = models.TextField()
    timeout = models.PositiveIntegerField(
        default=v.DEFAULT_HOOK_TIMEOUT,
        validators=[MinValueValidator(1), MaxValueValidator(v.MAX_HOOK_TIMEOUT)],
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "point"], name="site_hook_unique_point"),
        ]

    def __str__(self) -> str:
        return f"{self.point} hook of {self.site_id}"
