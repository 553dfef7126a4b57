"""Turn a claimed Deployment row into the pipeline's DeployContext (plain data, secrets decrypted).

The only place where site secrets are decrypted for a deploy; the context is handed to the
runner and never stored or logged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.conf import settings

from deployments.models import Deployment, Kind, ProvisionedServer, Trigger
from deployments.pipeline.context import (
    FULL_SHA,
    HOST_HEADER,
    DeployContext,
    HealthCheck,
    Hook,
    ServerSpec,
    WorkerSpec,
)
from deployments.pipeline.rolling import BalancerLink
from deployments.pipeline.workers import octane_command
from loadbalancers.models import ApplyStatus
from loadbalancers.selectors import balanced_sites_of_site, balancer_config, load_balancer_get
from servers.services import server_ssh_target
from servers.stack.report import judge_stored
from sites.models import EnvironmentVersion, Site, Worker
from sites.secrets import secret_values
from sites.selectors import env_version_latest

_PLAIN_ENV_VALUE = re.compile(r"[A-Za-z0-9_./:@+,=-]*")
# Readers of secrets that apps above deployments keep about a site (the webhook secret):
# they register here (webhooks/apps.py) so the log redacts them without an upward import.
SecretSource = Callable[[Site], Iterable[str]]
SECRET_SOURCES: list[SecretSource] = []


class ForeignServerError(ValueError):
    """A site is linked to a server of another organization: never connect to it."""


def secret_source_register(source: SecretSource) -> None:
    """Let `source(site)` add values the deploy log of `site` must redact."""
    if source not in SECRET_SOURCES:
        SECRET_SOURCES.append(source)


def build_context(deployment: Deployment) -> DeployContext:
    """Everything the pipeline needs for `deployment`, read once from the database.

    Sets (in memory) `deployment.env_version`: the environment version it ships, which the
    worker records on the row (the one its baseline recorded, so its env changes name the
    version it really ships).
    """
    site = deployment.site
    if deployment.env_version_id is None:
        deployment.env_version = shipped_env_version(deployment)
    version = deployment.env_version if deployment.kind == Kind.DEPLOY else None
    env = version.env if version is not None else site.env
    marked = version.secret_env_names if version is not None else site.secret_env_names
    return DeployContext(
        deployment_id=deployment.pk,
        kind=deployment.kind,
        deploy_path=site.deploy_path,
        release=deployment.release,
        servers=_server_specs(site),
        repository_url=site.repository_url,
        branch=deployment.branch,
        commit=deployment.commit_sha or None,
        deploy_key=site.deploy_key_private or None,
        repository_host_keys=tuple(
            line for line in site.repository_host_keys.splitlines() if line.strip()
        ),
        https_token=site.https_token or None,
        web_dir=site.web_dir,
        shared_dirs=tuple(site.shared_dirs),
        shared_files=tuple(site.shared_files),
        env_file=render_env_file(env) if env else None,
        secrets=tuple(dict.fromkeys((*context_secrets(site), *secret_values(env, marked)))),
        preset=site.preset,
        run_migrations=site.run_migrations,
        build_commands=tuple(site.build_commands),
        deploy_script=site.deploy_script,
        reload_method=site.reload_method,
        reload_command=tuple(site.reload_command),
        releases_to_keep=site.releases_to_keep,
        step_timeout=float(settings.DEPLOY_STEP_TIMEOUT),
        total_timeout=float(settings.DEPLOY_TOTAL_TIMEOUT),
        min_free_mb=settings.DEPLOY_MIN_FREE_MB,
        epoch=deployment.epoch,
        forward_only=deployment.trigger == Trigger.WEBHOOK,
        live_commit=_skip_if_live(deployment),
        health_check=_health_check(site),
        balancer=_balancer_link(site),
        workers=_workers(site),
        worker_group=worker_group(site) if site.workers_managed else "",
        hooks=tuple(
            Hook(point=hook.point, script=hook.script, timeout=float(hook.timeout))
            for hook in site.hooks.order_by("point")
        ),
    )


def worker_group(site: Site) -> str:
    """The supervisor group (and unit prefix) of the site's workers: unique per installation."""
    return f"deploynix-site{site.pk}"


def _workers(site: Site) -> tuple[WorkerSpec, ...]:
    group = worker_group(site)
    return tuple(_worker_spec(worker, group) for worker in site.workers.order_by("name"))


def _worker_spec(worker: Worker, group: str) -> WorkerSpec:
    octane = worker.octane_server if worker.is_octane else ""
    return WorkerSpec(
        name=worker.name, program=f"{group}-{worker.name}",
        command=worker.command or octane_command(octane, worker.octane_port),
        processes=worker.processes,
        stop_wait=worker.stop_wait_seconds, octane=octane,
    )


def shipped_env_version(deployment: Deployment) -> EnvironmentVersion | None:
    """The environment version `deployment` puts live: a deploy, the site's newest; a
    rollback, the one its target release was deployed with (None when not recorded)."""
    if deployment.kind == Kind.DEPLOY:
        return env_version_latest(site=deployment.site)
    target = (
        Deployment.objects.filter(site_id=deployment.site_id, kind=Kind.DEPLOY,
                                  release=deployment.release)
        .select_related("env_version").first()
    )
    return target.env_version if target is not None else None


def _skip_if_live(deployment: Deployment) -> str | None:
    """The live commit a deploy stops at ("already live"); None when forced or a rollback."""
    if deployment.force or deployment.kind != Kind.DEPLOY:
        return None
    return deployment.base_commit if FULL_SHA.match(deployment.base_commit) else None


def _balancer_link(site: Site) -> BalancerLink | None:
    """The balancer this site rolls through: the first (by name) that fronts it and has had a
    config applied (one never applied balances nothing yet); None when there is none."""
    entry = next((e for e in balanced_sites_of_site(site=site)
                  if e.load_balancer.apply_status == ApplyStatus.APPLIED), None)
    if entry is None:
        return None
    lb = load_balancer_get(org=site.organization, pk=entry.load_balancer_id)
    return BalancerLink(
        label=lb.name, target=server_ssh_target(lb.server), config=balancer_config(lb),
        site_key=f"site{site.pk}",
        backends={b.server.name: b.server.host for b in entry.backends.all()},
        conf_path=lb.conf_path, test_command=tuple(lb.test_command),
        reload_command=tuple(lb.reload_command), batch_size=entry.batch_size,
        drain_seconds=float(entry.drain_seconds), canary=entry.canary,
        canary_weight=entry.canary_weight, canary_seconds=float(entry.canary_seconds),
        canary_max_error_rate=entry.canary_max_error_percent / 100,
    )


def _health_check(site: Site) -> HealthCheck | None:
    """The site's health gate (None when off); the Host header is the site's domain."""
    if not site.health_check_enabled:
        return None
    domain = site.domain.strip()
    return HealthCheck(
        path=site.health_check_path, expected_status=site.health_check_status,
        body_text=site.health_check_body, timeout=float(site.health_check_timeout),
        host=domain if HOST_HEADER.match(domain) else "", scheme=site.health_check_scheme,
    )


def context_secrets(site: Site) -> tuple[str, ...]:
    """Values the sink must redact: the secret environment values (sites/secrets.py), the
    HTTPS token, the deploy key (line by line, as a script would print it) and what the
    registered sources add (the webhook secret)."""
    values = secret_values(site.env, site.secret_env_names)
    if site.https_token:
        values.append(site.https_token)
    values.extend(_key_lines(site.deploy_key_private or ""))
    for source in SECRET_SOURCES:
        values.extend(value for value in source(site) if value)
    return tuple(values)


def _key_lines(private_key: str) -> list[str]:
    """The base64 body lines of a PEM/OpenSSH private key (the armour lines are public)."""
    return [line.strip() for line in private_key.splitlines()
            if line.strip() and not line.startswith("-----")]


def _server_specs(site: Site) -> tuple[ServerSpec, ...]:
    servers = list(site.servers.select_related("organization").order_by("name", "id"))
    foreign = [server for server in servers if server.organization_id != site.organization_id]
    if foreign:
        # The database refuses such a link (sites/migrations); this is the executor's own
        # check before it would log in with another organization's key.
        raise ForeignServerError(
            f"refusing to deploy: server {foreign[0].name!r} belongs to another organization"
        )
    # Where the site was provisioned, its deploys run as its own user there.
    provisioned = {row.server_id: row for row in ProvisionedServer.objects.filter(site=site)}
    return tuple(_server_spec(server, site, provisioned.get(server.pk)) for server in servers)


def _server_spec(server, site: Site, provisioned: ProvisionedServer | None = None) -> ServerSpec:
    """The server's target plus what its last stack check says about this site."""
    stack = judge_stored(server, site)
    warnings = tuple(
        f"{f.level}: {f.message}" + (f" Change to: {f.fix}" if f.fix else "")
        for f in (shown.finding for shown in stack.findings) if f.level != "ok"
    )
    reload = stack.reload if stack.checked and stack.reload else "reload"
    return ServerSpec(name=server.name, target=server_ssh_target(server),
                      stack_warnings=warnings, reload=reload,
                      web_address=site.health_check_address or server.host,
                      web_port=site.health_check_port,
                      deploy_roots=server.allowed_deploy_roots,
                      supervisor_config=server.supervisor_config_path,
                      run_as=provisioned.user if provisioned else "",
                      systemd=bool(provisioned and provisioned.facts.get("systemd")))


def render_env_file(env: dict[str, str]) -> str:
    """A .env file phpdotenv reads back to exactly `env` (values were validated: no newlines)."""
    return "".join(f"{name}={_env_value(value)}\n" for name, value in env.items())


def _env_value(value: str) -> str:
    if _PLAIN_ENV_VALUE.fullmatch(value):
        return value
    if "'" not in value:
        # Single quotes are literal in phpdotenv: no escapes, no ${VAR} expansion.
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'
