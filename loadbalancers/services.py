"""Writes for load balancers: atomic, audited; `load_balancer_apply` puts the config live.

Changing a balancer or its sites only changes rows: the config reaches the balancer when a
manager applies it (`load_balancer_apply`), so several edits go live together and each apply
has one visible result. Rules live in loadbalancers/validators.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from loadbalancers import apply as remote
from loadbalancers import validators as v
from loadbalancers.models import ApplyStatus, Backend, BalancedSite, LoadBalancer, Method
from loadbalancers.selectors import load_balancer_get, rendered_config
from servers.models import Server
from servers.services import server_ssh_target
from servers.ssh import SSHError, SSHTarget, connect
from servers.stack.balancer import probe_balancer
from servers.stack.check import Finding
from servers.validators import clean_name
from sites.models import Site
from tenancy.audit import Actor, audit_record
from tenancy.models import Organization

DUPLICATE_NAME = "A load balancer with this name already exists in this organization."
SERVER_TAKEN = "This server is already a load balancer."
SITE_TAKEN = "This load balancer already fronts this site."
NOT_PINNED = (
    "The balancer's server has no pinned host key yet: check its connection first "
    "(Servers → Check), then apply."
)
# Bounded: the page waits for the answer. Upload + nginx -t + reload take well under a second.
APPLY_TIMEOUT_SECONDS = 30.0
LB_FIELDS = ("name", "conf_dir", "log_dir", "test_command", "reload_command")
CLEANERS = {
    "name": clean_name,
    "conf_dir": v.clean_dir,
    "log_dir": v.clean_dir,
    "test_command": v.clean_command,
    "reload_command": v.clean_command,
}


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    cleaned, errors = {}, {}
    for field, value in data.items():
        try:
            cleaned[field] = CLEANERS[field](value)
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def _fields(lb: LoadBalancer) -> dict[str, Any]:
    return {"server": lb.server_id, **{name: getattr(lb, name) for name in LB_FIELDS}}


def _save(lb: LoadBalancer) -> None:
    """Save, turning the unique name and the one-balancer-per-server rule into field errors."""
    same_org = LoadBalancer.objects.for_org(lb.organization).exclude(pk=lb.pk)
    if same_org.filter(name=lb.name).exists():
        raise ValidationError({"name": [DUPLICATE_NAME]})
    if LoadBalancer.objects.filter(server_id=lb.server_id).exclude(pk=lb.pk).exists():
        raise ValidationError({"server": [SERVER_TAKEN]})
    # An update writes only its own fields: a stale copy must not undo a concurrent apply's record.
    fields = None if lb.pk is None else list(LB_FIELDS)
    try:
        with transaction.atomic():
            lb.save(update_fields=fields)
    except IntegrityError:
        raise ValidationError({"name": [DUPLICATE_NAME]}) from None


@transaction.atomic
def load_balancer_create(
    *, org: Organization, actor: Actor, server: Server, **fields: Any
) -> LoadBalancer:
    """Make `server` (of `org`) a load balancer. Audited. Nothing is sent to it until applied."""
    if server.organization_id != org.pk:
        raise ValidationError({"server": ["No such server in this organization."]})
    unknown = set(fields) - set(LB_FIELDS)
    if unknown:
        raise ValueError(f"not load balancer fields: {sorted(unknown)}")
    lb = LoadBalancer(organization=org, server=server, **_clean(fields))
    _save(lb)
    audit_record(actor=actor, organization=org, verb="load_balancer.create", target=lb,
                 after=_fields(lb))
    return lb


@transaction.atomic
def load_balancer_update(
    *, load_balancer: LoadBalancer, actor: Actor, **changes: Any
) -> LoadBalancer:
    """Change name, directories or commands. Audited with before and after."""
    cleaned = _clean({k: changes[k] for k in LB_FIELDS if k in changes})
    before = _fields(load_balancer)
    for name, value in cleaned.items():
        setattr(load_balancer, name, value)
    _save(load_balancer)
    if before != _fields(load_balancer):
        audit_record(actor=actor, organization=load_balancer.organization,
                     verb="load_balancer.update", target=load_balancer, before=before,
                     after=_fields(load_balancer))
    return load_balancer


@transaction.atomic
def load_balancer_delete(*, load_balancer: LoadBalancer, actor: Actor) -> None:
    """Forget the balancer (its nginx keeps the last applied file until someone removes it)."""
    audit_record(actor=actor, organization=load_balancer.organization,
                 verb="load_balancer.delete", target=load_balancer, before=_fields(load_balancer))
    load_balancer.delete()


# Sites behind a balancer ---------------------------------------------------------------------


def _site_fields(entry: BalancedSite) -> dict[str, Any]:
    return {
        "site": entry.site_id, "method": entry.method, "listen_port": entry.listen_port,
        "backend_port": entry.backend_port, "server_name": entry.server_name,
        **{name: getattr(entry, name) for name in v.ROLLING_FIELDS},
        "backends": [
            {"server": b.server_id, "weight": b.weight, "backup": b.backup, "drained": b.drained}
            for b in entry.backends.order_by("server_id")
        ],
    }


@transaction.atomic
def balanced_site_set(
    *,
    load_balancer: LoadBalancer,
    actor: Actor,
    site: Site,
    method: str = Method.ROUND_ROBIN,
    backends: list[dict[str, Any]],
    listen_port: Any = 80,
    backend_port: Any = 80,
    server_name: Any = "",
    rolling: dict[str, Any] | None = None,
) -> BalancedSite:
    """Put `site` behind the balancer (or replace how it is), with all its backends at once.

    `rolling` changes the rolling deploy options it names (validators.ROLLING_BOUNDS), the
    others stay. ValidationError (field dict) for any bad value; nothing is written then. Audited.
    """
    org = load_balancer.organization
    if site.organization_id != org.pk:
        raise ValidationError({"site": ["No such site in this organization."]})
    cleaned = _clean_site(org, site, method, backends, listen_port, backend_port, server_name)
    cleaned.update(v.clean_rolling(rolling or {}))
    entry = BalancedSite.objects.filter(load_balancer=load_balancer, site=site).first()
    before = _site_fields(entry) if entry else None
    entry = entry or BalancedSite(load_balancer=load_balancer, site=site)
    specs = cleaned.pop("backends")
    for name, value in cleaned.items():
        setattr(entry, name, value)
    entry.save()
    entry.backends.all().delete()
    Backend.objects.bulk_create(
        Backend(balanced_site=entry, server=s.server, weight=s.weight, backup=s.backup,
                drained=s.drained)
        for s in specs
    )
    audit_record(actor=actor, organization=org, verb="load_balancer.site_set",
                 target=load_balancer, before=before, after=_site_fields(entry))
    return entry


def _clean_site(
    org: Organization, site: Site, method: Any, backends: Any, listen_port: Any,
    backend_port: Any, server_name: Any,
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for field, call in (
        ("method", lambda: v.clean_method(method)),
        ("server_name", lambda: v.clean_server_name(server_name)),
    ):
        try:
            cleaned[field] = call()
        except ValidationError as exc:
            errors[field] = exc.messages
    try:
        cleaned.update(v.clean_ports({"listen_port": listen_port, "backend_port": backend_port}))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not isinstance(backends, list | tuple) or not all(isinstance(b, dict) for b in backends):
        errors["backends"] = ["Send a list of backends ({server, weight, backup, drained})."]
    elif "method" in cleaned:
        org_servers = {s.pk: s for s in Server.objects.for_org(org)}
        site_ids = set(site.servers.values_list("pk", flat=True))
        try:
            cleaned["backends"] = v.clean_backends(
                method=cleaned["method"], rows=backends, org_servers=org_servers,
                site_server_ids=site_ids,
            )
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def balanced_site_remove(*, entry: BalancedSite, actor: Actor) -> None:
    """Stop balancing the site here (takes effect at the next apply). Audited."""
    lb = entry.load_balancer
    audit_record(actor=actor, organization=lb.organization, verb="load_balancer.site_remove",
                 target=lb, before=_site_fields(entry))
    entry.delete()


@transaction.atomic
def backend_set_drained(*, backend: Backend, actor: Actor, drained: bool) -> Backend:
    """Drain a backend (no new requests once applied) or enable it again. Audited.

    The manager's maintenance switch (a rolling deploy drains with its own state, never this
    flag: deployments/pipeline/rolling.py). Refused when draining would
    leave the site no enabled primary: the balancer would have nowhere to send traffic.
    """
    row = Backend.objects.select_for_update().select_related(
        "balanced_site__load_balancer__organization", "server"
    ).get(pk=backend.pk)
    if drained and not row.backup and not row.balanced_site.backends.exclude(pk=row.pk).filter(
        backup=False, drained=False
    ).exists():
        raise ValidationError({"drained": [v.NO_PRIMARY]})
    before = row.drained
    row.drained = drained
    row.save(update_fields=["drained"])
    lb = row.balanced_site.load_balancer
    audit_record(actor=actor, organization=lb.organization, verb="load_balancer.backend_drain",
                 target=lb, before={"server": row.server_id, "drained": before},
                 after={"server": row.server_id, "drained": drained})
    backend.drained = drained
    return row


# Applying the config -------------------------------------------------------------------------


def load_balancer_apply(*, load_balancer: LoadBalancer, actor: Actor) -> LoadBalancer:
    """Generate the config, put it live over the server's pinned connection, record the result.

    Synchronous, bounded by APPLY_TIMEOUT_SECONDS (the page shows the answer at once). A config
    that `nginx -t` refuses is not applied: the previous file is restored, nothing reloads, and
    nginx's error text is stored in `apply_output`. Audited with the outcome.
    """
    lb = load_balancer_get(org=load_balancer.organization, pk=load_balancer.pk)
    if lb is None:
        raise ValidationError("This load balancer no longer exists.")
    if not lb.server.host_key:
        return _record(lb, actor, remote.PushResult(remote.FAILED, NOT_PINNED), "")
    text = rendered_config(lb)
    result = asyncio.run(_push(lb, text, server_ssh_target(lb.server)))
    return _record(lb, actor, result, text)


async def _push(lb: LoadBalancer, text: str, target: SSHTarget) -> remote.PushResult:
    try:
        async with asyncio.timeout(APPLY_TIMEOUT_SECONDS):
            async with await connect(target) as conn:
                return await remote.push_config(
                    conn, conf_path=lb.conf_path, text=text, test_command=lb.test_command,
                    reload_command=lb.reload_command, timeout=APPLY_TIMEOUT_SECONDS,
                )
    except SSHError as exc:
        return remote.PushResult(remote.FAILED, str(exc))
    except TimeoutError:
        return remote.PushResult(
            remote.FAILED, f"no answer from {target.label} within {APPLY_TIMEOUT_SECONDS:.0f}s"
        )


@transaction.atomic
def _record(lb: LoadBalancer, actor: Actor, result: remote.PushResult, text: str) -> LoadBalancer:
    row = LoadBalancer.objects.select_for_update().get(pk=lb.pk)
    row.apply_status = ApplyStatus(result.status)
    row.applied_at = timezone.now()
    row.apply_output = result.output
    if result.status == remote.APPLIED:
        row.applied_config = text
    row.save(update_fields=["apply_status", "applied_at", "apply_output", "applied_config"])
    audit_record(actor=actor, organization=row.organization, verb="load_balancer.apply",
                 target=row, after={"status": result.status, "output": result.output[-500:]})
    for name in ("apply_status", "applied_at", "apply_output", "applied_config"):
        setattr(lb, name, getattr(row, name))
    return lb


# Checking the balancer's nginx ---------------------------------------------------------------


def load_balancer_check(*, load_balancer: LoadBalancer, actor: Actor) -> LoadBalancer:
    """Read the balancer's live nginx (`nginx -T`): our file included, valid, as generated.

    Compares with what was last applied (not with unapplied edits). Stores the findings;
    audited. Bounded like an apply.
    """
    lb = load_balancer
    if not lb.server.host_key:
        findings = [Finding("error", "lb_connect", NOT_PINNED)]
    else:
        findings = asyncio.run(_probe(lb, server_ssh_target(lb.server)))
    lb.check_findings = [dataclasses.asdict(finding) for finding in findings]
    lb.checked_at = timezone.now()
    with transaction.atomic():
        lb.save(update_fields=["check_findings", "checked_at"])
        audit_record(actor=actor, organization=lb.organization, verb="load_balancer.check",
                     target=lb, after={"levels": [f.level for f in findings]})
    return lb


async def _probe(lb: LoadBalancer, target: SSHTarget) -> list[Finding]:
    try:
        async with asyncio.timeout(APPLY_TIMEOUT_SECONDS):
            async with await connect(target) as conn:
                return await probe_balancer(conn, test_command=lb.test_command,
                                            conf_path=lb.conf_path, expected=lb.applied_config)
    except (SSHError, TimeoutError) as exc:
        return [Finding("error", "lb_connect", f"{target.label}: {exc or 'timed out'}")]
