"""Reconcile: ask every server of a site what is live and on disk, store it, report the drift.

The database is the journal of what was asked; the servers are the truth about what is
live (docs/architecture.md). `site_reconcile` reads each server once
(deployments/pipeline/inventory.py), concurrently and with a bounded timeout, stores the
facts per server (ServerReleaseFacts) and audits what disagreed. It never changes a server.
Runs after every finished deployment (deployments/tasks.py) and on demand. After a deployment
that succeeded, what its pipeline read over its own connections once its last step ended
(`finishing_with`) stands in for a second round of connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from deployments import selectors
from deployments.models import Deployment, ServerReleaseFacts, Status
from deployments.pipeline import lock
from deployments.pipeline.context import ServerSpec
from deployments.pipeline.inventory import Inventory, InventoryFailed, read_inventory
from servers.models import Server
from servers.services import server_ssh_target
from servers.ssh import connect
from sites.models import Site
from tenancy.audit import Actor, audit_record

__all__ = ["InventoryFailed", "finishing_with", "observe", "observed_at_finish", "site_reconcile"]

# One server's whole observation (connect, login, one command) must end within this.
OBSERVE_TIMEOUT_SECONDS = 20.0
Current = ServerReleaseFacts.Current


# What each server said at the end of the deployment being finished on this thread, read over
# the deployment's own connections (PipelineResult.observed): set by the worker around the
# finish (deployments/worker.py), read by the reconcile that follows (deployments/tasks.py).
_observed_at_finish: ContextVar[dict[str, Inventory] | None] = ContextVar(
    "observed_at_finish", default=None
)


@contextmanager
def finishing_with(observed: dict[str, Inventory] | None) -> Iterator[None]:
    """While a deployment is finished: what its servers said at its end (None: nothing)."""
    token = _observed_at_finish.set(observed or None)
    try:
        yield
    finally:
        _observed_at_finish.reset(token)


def observed_at_finish() -> dict[str, Inventory] | None:
    return _observed_at_finish.get()


@dataclass(frozen=True)
class ServerObservation:
    """What one server said (or why it could not be asked), and where it disagreed."""

    server: str
    inventory: Inventory | None
    error: str = ""
    drift: tuple[str, ...] = ()

    @property
    def live(self) -> str | None:
        return self.inventory.current_release if self.inventory is not None else None


@dataclass(frozen=True)
class ReconcileReport:
    """The outcome of one reconcile; `judged` False when a running deployment made drift moot."""

    site_id: int
    servers: tuple[ServerObservation, ...] = ()
    judged: bool = True
    believed_live: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def drift(self) -> dict[str, list[str]]:
        return {s.server: list(s.drift) for s in self.servers if s.drift}


async def observe(
    server_spec: ServerSpec, deploy_path: str, fence_epoch: int | None = None
) -> Inventory:
    """Read the site's truth on one server: one connection, one read-only command.

    With `fence_epoch` (the watchdog took a deployment away: `_pending_fence`), first take
    the server's lock at that epoch for nobody, so the silent worker's processes stop and
    nothing it sends later changes the server (deployments/pipeline/lock.py). A lock that
    a newer deployment holds already is left alone.
    Raises SSHError (connection, login, host key, or the command failing) or TimeoutError.
    """
    async with asyncio.timeout(OBSERVE_TIMEOUT_SECONDS):
        async with await connect(server_spec.target) as conn:
            if fence_epoch is not None:
                await conn.run(lock.fence_off(deploy_path, fence_epoch).argv)
            return await read_inventory(conn, deploy_path)


def site_reconcile(
    *, site: Site, actor: Actor, observed: dict[str, Inventory] | None = None
) -> ReconcileReport:
    """Observe every server of `site`, store the facts, audit ("site.reconciled"), report.

    `observed`: server name -> what a deployment that just ended read over its own
    connection, after its last step (`finishing_with`); those servers are not asked again.
    """
    observed = observed or {}
    servers = list(site.servers.order_by("name"))
    specs = [ServerSpec(name=server.name, target=server_ssh_target(server))
             for server in servers if server.name not in observed]
    asked = iter(asyncio.run(_observe_all(specs, site.deploy_path, _pending_fence(site)))
                 if specs else [])
    outcomes = [observed[server.name] if server.name in observed else next(asked)
                for server in servers]
    with transaction.atomic():
        report = _judge(site, servers, outcomes)
        _store(site, servers, report)
        audit_record(
            actor=actor, organization=site.organization, verb="site.reconciled", target=site,
            after=_audit_summary(report),
        )
    return report


async def _observe_all(
    specs: list[ServerSpec], deploy_path: str, fence_epoch: int | None
) -> list[Inventory | BaseException]:
    return await asyncio.gather(
        *(observe(spec, deploy_path, fence_epoch) for spec in specs), return_exceptions=True
    )


def _pending_fence(site: Site) -> int | None:
    """The site's epoch when the watchdog raised it past every deployment's (a lease taken
    away from a silent worker, not yet given to anyone) and nothing runs now; else None."""
    epoch = Site.objects.values_list("deploy_epoch", flat=True).get(pk=site.pk)
    deployments = Deployment.objects.filter(site=site)
    if deployments.filter(status=Status.RUNNING).exists():
        return None
    newest = deployments.aggregate(newest=Max("epoch"))["newest"] or 0
    return epoch if epoch > newest else None


def _judge(
    site: Site, servers: list[Server], outcomes: list[Inventory | BaseException]
) -> ReconcileReport:
    """Compare what each server said with what the panel believes (inside the transaction)."""
    live = selectors.deployment_live(site=site)
    believed = live.release if live is not None else ""
    observed = {
        server.name: outcome for server, outcome in zip(servers, outcomes, strict=True)
        if isinstance(outcome, Inventory)
    }
    running = Deployment.objects.filter(site=site, status=Status.RUNNING).exists()
    drift = {} if running else drift_of(
        observed, believed_live=believed, must_exist=_must_exist(site, live, servers, observed)
    )
    return ReconcileReport(
        site_id=site.pk,
        servers=tuple(
            ServerObservation(
                server=server.name,
                inventory=outcome if isinstance(outcome, Inventory) else None,
                error="" if isinstance(outcome, Inventory) else _describe(outcome),
                drift=tuple(drift.get(server.name, ())),
            )
            for server, outcome in zip(servers, outcomes, strict=True)
        ),
        judged=not running,
        believed_live=believed,
        notes=("a deployment is running: drift not judged",) if running else (),
    )


def drift_of(
    observed: dict[str, Inventory], *, believed_live: str, must_exist: dict[str, set[str]]
) -> dict[str, list[str]]:
    """Server name -> sentences saying where it disagrees with the panel or the others.

    Drift: the live release differs from the panel's (the last succeeded deployment), the
    servers serve different releases, or a release the panel relies on is gone.
    """
    lives = {name: facts.current_release for name, facts in observed.items()}
    drift: dict[str, list[str]] = {}
    for name, facts in observed.items():
        found = []
        if lives[name] != (believed_live or None) and (believed_live or facts.current_exists):
            found.append(_live_mismatch(facts, believed_live))
        others = [f"{other} {lives[other] or 'none'}" for other in sorted(lives)
                  if other != name and lives[other] != lives[name]]
        if others:
            found.append(f"serves {lives[name] or 'no release'}, unlike {', '.join(others)}")
        gone = sorted(must_exist.get(name, set()) - set(facts.release_names))
        if gone:
            found.append(f"release {', '.join(gone)} is gone (the panel counts on it)")
        if found:
            drift[name] = found
    return drift


def _live_mismatch(facts: Inventory, believed_live: str) -> str:
    belief = f"the panel believes {believed_live} live" if believed_live else (
        "the panel records no successful deployment")
    if not facts.current_exists:
        return f"no current release; {belief}"
    if not facts.current_is_link:
        return f"current is not a symlink; {belief}"
    if facts.current_dangling:
        return f"current points at {facts.current_target}, which is missing; {belief}"
    if facts.current_release is None:
        return f"current points at {facts.current_target}, not a release; {belief}"
    return f"serves {facts.current_release}; {belief}"


def _must_exist(
    site: Site, live: Deployment | None, servers: list[Server], observed: dict[str, Inventory]
) -> dict[str, set[str]]:
    """Per server, releases the panel counts on being there.

    Always: the live release and the one it replaced (the pipeline never prunes either).
    Also: whatever was there at the previous observation if no deployment ran since (only
    a hand could have removed it).
    """
    guaranteed = {live.release, live.previous_release} - {""} if live is not None else set()
    previous = {row.server_id: row for row in ServerReleaseFacts.objects.filter(site=site)}
    # Deployments of a site run one at a time: the latest started one acted last.
    last_run = (
        Deployment.objects.filter(site=site, started_at__isnull=False)
        .order_by("-started_at").values_list("started_at", "finished_at").first()
    )
    last_acted = max(filter(None, last_run)) if last_run else None
    expected = {}
    for server in servers:
        if server.name not in observed:
            continue
        names = set(guaranteed)
        row = previous.get(server.pk)
        if row and row.observed_at and (last_acted is None or row.observed_at > last_acted):
            names |= set(row.release_names)
        expected[server.name] = names
    return expected


def _store(site: Site, servers: list[Server], report: ReconcileReport) -> None:
    now = timezone.now()
    ServerReleaseFacts.objects.filter(site=site).exclude(server__in=servers).delete()
    for server, seen in zip(servers, report.servers, strict=True):
        if seen.inventory is None:
            ServerReleaseFacts.objects.update_or_create(
                site=site, server=server, defaults={"checked_at": now, "error": seen.error},
            )
            continue
        ServerReleaseFacts.objects.update_or_create(
            site=site, server=server, defaults=_facts_fields(seen, now)
        )


def _facts_fields(seen: ServerObservation, now) -> dict:
    facts = seen.inventory
    assert facts is not None
    return {
        "current": _current_kind(facts),
        "current_release": facts.current_release or "",
        "current_target": (facts.current_target or "")[:1000],
        "releases": [{"name": r.name, "commit": r.commit} for r in facts.releases],
        "logged_releases": (
            list(facts.logged_releases) if facts.logged_releases is not None else None
        ),
        "drift": list(seen.drift),
        "observed_at": now,
        "checked_at": now,
        "error": "",
    }


def _current_kind(facts: Inventory) -> str:
    if facts.current_release is not None:
        return Current.RELEASE
    return Current.NOT_RELEASE if facts.current_exists else Current.NONE


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {OBSERVE_TIMEOUT_SECONDS:.0f} s"
    return str(error) or type(error).__name__


def _audit_summary(report: ReconcileReport) -> dict:
    return {
        "believed_live": report.believed_live,
        "live": {s.server: s.live for s in report.servers if s.inventory is not None},
        "errors": {s.server: s.error for s in report.servers if s.error},
        "drift": report.drift,
        "judged": report.judged,
    }

