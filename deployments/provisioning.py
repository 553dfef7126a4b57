"""Provisioning a site on its servers, as a deployment of kind `provision` (a job with the live
log, steps and history of a deploy; docs/server-setup.md says what it writes).

`provision_request` is the service (Manager+, audited, queued like a deploy); the worker calls
`run_provisioning` for a claimed row: it runs servers/provision/ over SSH with the deployment's
sink, then records each server it provisioned (`ProvisionedServer`: the site's user there, the
PHP facts) and re-runs the server's connection check so the stack panels judge the new files.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.db import connections, transaction
from django.utils import timezone

from deployments.authority import authority_of
from deployments.models import Deployment, Kind, ProvisionedServer, SiteProvisioning, Status
from deployments.pipeline.context import PipelineResult
from deployments.services import DeploymentError, _next_number, enqueue_after_commit
from deployments.sink import DeploymentSink
from servers.provision.names import ProvisionError, check_deploy_path, site_user_name, slugify
from servers.provision.runner import ProvisionTarget, provision
from servers.provision.steps import fpm_reload, root_prefix, select
from servers.provision.templates import SiteSpec
from servers.provision.tls import check_tls_pair
from servers.services import server_check, server_ssh_target
from sites.models import DEFAULT_RELOAD_COMMAND, Site
from tenancy.audit import Actor, audit_record


class ProvisionRequestError(DeploymentError):
    """The request cannot be queued; the message says why (shown as is)."""


@dataclasses.dataclass(frozen=True)
class ProvisionSettings:
    """What the Provision form or API may change first (None: keep the stored value)."""

    scheduler: bool | None = None
    certificate: str | None = None  # PEM; with private_key
    private_key: str | None = dataclasses.field(default=None, repr=False)
    remove_certificate: bool = False


def settings_of(site: Site) -> SiteProvisioning:
    """The site's provisioning settings (an unsaved default row when it has none yet)."""
    row = SiteProvisioning.objects.filter(site=site).first()
    return row if row is not None else SiteProvisioning(site=site)


def site_spec(site: Site) -> SiteSpec:
    """The site as provisioning sees it; ProvisionError for a name or path it refuses."""
    user = site_user_name(site.name)
    stored = settings_of(site)
    return SiteSpec(
        name=slugify(site.name), user=user, deploy_path=check_deploy_path(site.deploy_path, user),
        web_dir=site.web_dir, domains=(site.domain,) if site.domain else (),
        scheduler=stored.scheduler_enabled, certificate=stored.tls_certificate,
        private_key=stored.tls_private_key,
    )


def provision_request(*, site: Site, actor: Actor, trigger: str,
                      settings: ProvisionSettings | None = None,
                      steps: Sequence[str] = ()) -> Deployment:
    """Store the provisioning settings and queue provisioning `site` on all its servers.

    Refused before anything is stored when the site has no server, its name gives no valid
    user, its deploy path is outside /var/www or the user's home, or the certificate and key
    do not belong together. A provisioning already queued is returned, not doubled. Audited
    (never the certificate or key themselves); enqueued after commit.
    """
    settings = settings or ProvisionSettings()
    try:
        select(steps)
    except ValueError as exc:
        raise ProvisionRequestError(str(exc)) from None
    if not site.servers.exists():
        raise ProvisionRequestError(f"{site.name} has no server to provision; add one first.")
    try:
        site_spec(site)
    except ProvisionError as exc:
        raise ProvisionRequestError(str(exc)) from None
    stored = settings_of(site)
    changes = _apply_settings(stored, settings)
    with transaction.atomic():
        Site.objects.select_for_update().filter(pk=site.pk).first()
        if changes:
            stored.save()
        queued = Deployment.objects.filter(site=site, kind=Kind.PROVISION, status=Status.QUEUED,
                                           provision_steps=list(steps)).first()
        if queued is not None:
            return queued
        authority, token = authority_of(actor, trigger)
        deployment = Deployment.objects.create(
            site=site, organization_id=site.organization_id, kind=Kind.PROVISION,
            trigger=trigger, triggered_by=actor.user, triggered_by_name=actor.name,
            branch=site.branch, authority=authority, api_token=token, number=_next_number(site),
            provision_steps=list(steps),
        )
        audit_record(actor=actor, organization=site.organization, verb="site.provision_requested",
                     target=deployment,
                     after={"site": site.name, "steps": list(steps) or "all", **changes})
        enqueue_after_commit(deployment)
    return deployment


def _apply_settings(stored: SiteProvisioning, settings: ProvisionSettings) -> dict[str, str | bool]:
    """Validate and set the changed settings on `stored` (unsaved); what changed, for the audit."""
    changes: dict[str, str | bool] = {}
    if settings.scheduler is not None and settings.scheduler != stored.scheduler_enabled:
        stored.scheduler_enabled = changes["scheduler"] = settings.scheduler
    if settings.remove_certificate and stored.tls_certificate:
        stored.tls_certificate = stored.tls_private_key = ""
        changes["certificate"] = "removed"
    elif settings.certificate or settings.private_key:
        try:
            subject = check_tls_pair(settings.certificate or "", settings.private_key or "")
        except ValueError as exc:
            raise ProvisionRequestError(str(exc)) from None
        stored.tls_certificate = settings.certificate.strip() + "\n"
        stored.tls_private_key = settings.private_key.strip() + "\n"
        changes["certificate"] = f"uploaded ({subject})"
    return changes


def run_provisioning(deployment: Deployment) -> PipelineResult:
    """Provision the claimed `deployment`'s site on every server; record what it found."""
    site = Site.objects.get(pk=deployment.site_id)
    try:
        spec = site_spec(site)
    except ProvisionError as exc:
        return PipelineResult(status="failed", failed_step="prepare", error=str(exc))
    servers = list(site.servers.select_related("organization").order_by("name", "id"))
    targets = [ProvisionTarget(server.name, server_ssh_target(server)) for server in servers]
    result = asyncio.run(_run(deployment.pk, targets, spec, select(deployment.provision_steps)))
    # The site has one reload command: through sudo -n if any of its servers logs in as
    # someone other than root (sudo as root changes nothing).
    as_root = max((root_prefix(server.user) for server in servers), key=len, default=())
    for server in servers:
        facts = result.facts.get(server.name)
        if facts is not None:
            _record(deployment, site, server, spec.user, fpm_reload(facts, as_root), facts)
            server_check(server)  # the stack panels now judge the files just written
    return PipelineResult(status=result.status, failed_step=result.failed_step,
                          error=result.error)


async def _run(deployment_id: int, targets, spec: SiteSpec, steps):
    async with ThreadSensitiveContext():
        sink = DeploymentSink(deployment_id=deployment_id,
                              secrets=tuple(s for s in (spec.private_key,) if s))
        cancel = asyncio.Event()  # the sink sets it when someone cancels the job
        await sink.start(cancel)
        try:
            return await provision(targets, spec, sink, steps=steps, cancel=cancel)
        finally:
            await sink.close()
            await sync_to_async(connections.close_all)()


def _record(deployment: Deployment, site: Site, server, user: str, reload: list[str],
            facts) -> None:
    ProvisionedServer.objects.update_or_create(
        site=site, server=server,
        defaults={"user": user, "facts": facts.to_json(), "deployment": deployment,
                  "provisioned_at": timezone.now()},
    )
    # The reload a provisioned server needs is known now; a command the user chose stays.
    if site.reload_command == DEFAULT_RELOAD_COMMAND:
        Site.objects.filter(pk=site.pk).update(reload_command=reload)


@dataclasses.dataclass
class Preview:
    """What a step would change on one server (its log: the diffs), before anything changes."""

    lines: list[str]
    ok: bool
    error: str = ""


class _Lines:
    """A provisioning sink that keeps the lines (the preview is shown, not stored)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    async def step_started(self, step: str, server: str) -> None:
        pass

    async def step_finished(self, step, server, status, exit_code, error="") -> None:
        if error:
            self.lines.append(f"{step}: {error}")

    async def line(self, server: str, stream: str, text: str, ts: float) -> None:
        self.lines.append(text)


def provision_preview(*, site: Site, server, step: str) -> Preview:
    """Run `step` on `server` as a dry run: detect, then show the diff of each file it would
    write. Reads the server only; ProvisionRequestError for a site provisioning refuses."""
    try:
        spec, steps = site_spec(site), select([step])
    except (ProvisionError, ValueError) as exc:
        raise ProvisionRequestError(str(exc)) from None
    sink = _Lines()
    started = time.monotonic()
    result = asyncio.run(provision([ProvisionTarget(server.name, server_ssh_target(server))],
                                   spec, sink, steps=steps, dry_run=True))
    sink.lines.append(f"(dry run, {time.monotonic() - started:.1f} s)")
    return Preview(sink.lines, result.status == "succeeded", result.error)
