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
from tenancy.models import Organization

DEFAULT_RELOAD_COMMAND = ["sudo", "-n", "systemctl", "reload", "php8.2-fpm"]
HEALTH_CHECK_FIELDS = (
    "health_check_enabled", "health_check_path", "health_check_status", "health_check_body",
    "health_check_timeout", "health_check_scheme", "health_check_address", "health_check_port",
)
# The health check's bounds (deployments/pipeline/health.py probes with them).
HEALTH_TIMEOUT_MAX = 30
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
        """Save, never writing `deploy_epoch`: it only moves by atomic increments
        (deployments.lifecycle), and a stale copy saved back would move it backwards."""
        if self.pk is not None and kwargs.get("update_fields") is None and not kwargs.get(
            "force_insert"
        ):
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "deploy_epoch"
            ]
        super().save(*args, **kwargs)

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

