"""Load balancers: a server running nginx in front of the web servers of one or more sites.

A `LoadBalancer` row is attached to a `Server` (one to one) rather than a "role" column on
`Server`: what a balancer needs (its nginx include directory, test and reload commands, the
result of the last apply, the sites it fronts) is its own data, and `servers` stays a layer
that knows nothing of balancing. Deployments import this app to drain and enable backends.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from loadbalancers import nginx
from servers.models import Server
from sites.models import Site
from tenancy.models import Organization

DEFAULT_CONF_DIR = "/etc/nginx/conf.d"
DEFAULT_LOG_DIR = "/var/log/nginx"
DEFAULT_TEST_COMMAND = ["nginx", "-t"]
# No systemd on many hosts (and none on ours): a signal to the master is the portable reload.
DEFAULT_RELOAD_COMMAND = ["nginx", "-s", "reload"]


def default_test_command() -> list[str]:
    return list(DEFAULT_TEST_COMMAND)


def default_reload_command() -> list[str]:
    return list(DEFAULT_RELOAD_COMMAND)


class Method(models.TextChoices):
    ROUND_ROBIN = nginx.ROUND_ROBIN, "Round robin"
    LEAST_CONN = nginx.LEAST_CONN, "Least connections"
    IP_HASH = nginx.IP_HASH, "IP hash"


class ApplyStatus(models.TextChoices):
    NEVER = "never", "Never applied"
    APPLIED = "applied", "Applied"
    REJECTED = "rejected", "Rejected by nginx -t (previous config kept)"
    FAILED = "failed", "Failed"


class LoadBalancerQuerySet(models.QuerySet):
    def for_org(self, org: Organization) -> LoadBalancerQuerySet:
        return self.filter(organization=org)


class LoadBalancer(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="load_balancers"
    )
    server = models.OneToOneField(Server, on_delete=models.CASCADE, related_name="load_balancer")
    name = models.CharField(max_length=100)
    # The directory the balancer's nginx includes (`include <conf_dir>/*.conf;` in `http`).
    conf_dir = models.CharField(max_length=500, default=DEFAULT_CONF_DIR)
    log_dir = models.CharField(max_length=500, default=DEFAULT_LOG_DIR)
    test_command = models.JSONField(default=default_test_command)
    reload_command = models.JSONField(default=default_reload_command)
    apply_status = models.CharField(
        max_length=10, choices=ApplyStatus.choices, default=ApplyStatus.NEVER
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    # nginx's own words when it refused a config, or why the apply failed.
    apply_output = models.TextField(blank=True)
    applied_config = models.TextField(blank=True)  # the text live after the last success
    # The last stack check of the balancer (servers/stack/balancer.py): included, valid, as
    # generated; a list of {level, code, message, fix}.
    checked_at = models.DateTimeField(null=True, blank=True)
    check_findings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = LoadBalancerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="lb_name_per_org"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def config_name(self) -> str:
        """Unique per balancer: names its file, upstreams and log format on the nginx."""
        return f"deploynix_lb{self.pk}"

    @property
    def conf_path(self) -> str:
        return f"{self.conf_dir.rstrip('/')}/{self.config_name}.conf"

    @property
    def access_log(self) -> str:
        return f"{self.log_dir.rstrip('/')}/{self.config_name}.access.log"


class BalancedSite(models.Model):
    """One site behind one balancer: how requests are spread over its backends."""

    load_balancer = models.ForeignKey(LoadBalancer, on_delete=models.CASCADE, related_name="sites")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="balanced_by")
    method = models.CharField(max_length=12, choices=Method.choices, default=Method.ROUND_ROBIN)
    listen_port = models.PositiveIntegerField(default=80)
    backend_port = models.PositiveIntegerField(default=80)
    # Empty: the site's domain, or any host name ("_") if it has none.
    server_name = models.CharField(max_length=253, blank=True)
    # Rolling deploys through this balancer (deployments/pipeline/rolling.py): servers switched
    # per batch, each drained for drain_seconds first; optionally the first one goes back as a
    # canary with canary_weight for canary_seconds, rolled back above canary_max_error_percent.
    batch_size = models.PositiveSmallIntegerField(default=1)
    drain_seconds = models.PositiveSmallIntegerField(default=2)
    canary = models.BooleanField(default=False)
    canary_weight = models.PositiveSmallIntegerField(default=1)
    canary_seconds = models.PositiveSmallIntegerField(default=60)
    canary_max_error_percent = models.PositiveSmallIntegerField(default=5)

    class Meta:
        ordering = ["site__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["load_balancer", "site"], name="lb_site_once"),
            models.CheckConstraint(
                condition=Q(listen_port__gte=1, listen_port__lte=65535)
                & Q(backend_port__gte=1, backend_port__lte=65535),
                name="lb_site_ports_range",
            ),
            models.CheckConstraint(
                condition=Q(batch_size__gte=1, batch_size__lte=50, drain_seconds__lte=300)
                & Q(canary_weight__gte=1, canary_weight__lte=100)
                & Q(canary_seconds__gte=1, canary_seconds__lte=3600)
                & Q(canary_max_error_percent__lte=100),
                name="lb_site_rolling_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} on {self.load_balancer}"


class Backend(models.Model):
    """One of the site's servers in the balancer's upstream."""

    balanced_site = models.ForeignKey(
        BalancedSite, on_delete=models.CASCADE, related_name="backends"
    )
    server = models.ForeignKey(Server, on_delete=models.CASCADE, related_name="+")
    weight = models.PositiveSmallIntegerField(default=1)
    backup = models.BooleanField(default=False)
    # Drained: in the upstream as `down`, so it gets no new requests (deploys, maintenance).
    drained = models.BooleanField(default=False)

    class Meta:
        ordering = ["server__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["balanced_site", "server"], name="lb_backend_once"),
            models.CheckConstraint(
                condition=Q(weight__gte=1, weight__lte=100), name="lb_backend_weight_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.server} in {self.balanced_site}"
