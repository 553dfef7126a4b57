"""Writes to deployments: request, cancel, roll back. Every trigger ends here.

Shape of each service: one transaction, the change, the audit event in the same transaction,
then (after commit only) the `deployment_queued` signal that sends the Celery task
(deployments/tasks.py) and the live status broadcast. The status changes are the state
machine's (deployments/lifecycle.py); the worker side is deployments/worker.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from deployments import gates, lifecycle, selectors
from deployments.authority import authority_of
from deployments.events import send_status_sync
from deployments.models import WAITING, Deployment, Kind, Status
from deployments.reconcile import site_reconcile
from deployments.signals import deployment_queued
from sites.models import Site
from tenancy.audit import Actor, audit_record

FULL_SHA = re.compile(r"[0-9a-f]{40}")
# How a superseded deployment's error begins (the history shows it).
SUPERSEDED = "superseded by"


class DeploymentError(Exception):
    """A request that cannot be honoured; the message is shown to the user as is."""


def deployment_request(
    *, site: Site, actor: Actor, trigger: str, commit: str | None = None,
    redeploy_of: Deployment | None = None, freeze_override: str | None = None,
    force: bool = False,
) -> Deployment:
    """Request a deploy of `site` (branch head, or exactly `commit`).

    It passes the gates first (deployments/gates.py): it may wait for approval, be held by a
    freeze, or be refused during a freeze unless `freeze_override` gives a reason. Otherwise
    it is queued: while another deployment of the site runs, the new one waits. At most one
    waits per site: a waiting request for the same commit (or branch head) at the same gate is
    returned instead of a new one, and any other waiting deployment is superseded by the new
    one (the newest request wins). Audited; enqueues run_deployment after commit (when queued).

    Unless `force`, a deploy whose commit turns out to be live on every server already stops
    before building anything and ends `skipped` ("already live", deployments/pipeline/steps.py).
    """
    requested = (commit or "").strip().lower()
    if requested and not FULL_SHA.fullmatch(requested):
        raise DeploymentError("A commit must be given as its full 40-character SHA.")
    if not site.servers.exists():
        raise DeploymentError(f"{site.name} has no server to deploy to; add one first.")
    try:
        override = gates.clean_override(freeze_override)
        with transaction.atomic():
            # Serialize requests per site so two identical triggers cannot both miss each other.
            Site.objects.select_for_update().filter(pk=site.pk).first()
            gate = gates.request_gate(site=site, trigger=trigger, override=override,
                                      now=timezone.now())
            duplicate = _waiting_duplicate(site, requested, gate.status, force)
            if duplicate is not None:
                return duplicate
            deployment = _create_deploy(site, actor, trigger, requested, gate, force)
            audit_record(
                actor=actor, organization=site.organization, verb="deployment.requested",
                target=deployment, after={"site": site.name, "trigger": trigger,
                                          "commit": requested, "status": gate.status,
                                          **_redeploy_note(redeploy_of), **_force_note(force)},
            )
            _audit_override(deployment, actor, gate)
            _supersede_waiting(deployment, actor)
            _after_commit_announce(deployment)
    except gates.GateRefused as exc:
        raise DeploymentError(str(exc)) from None
    return deployment


def _create_deploy(site: Site, actor: Actor, trigger: str, requested: str,
                   gate: gates.Gate, force: bool) -> Deployment:
    authority, token = authority_of(actor, trigger)
    return Deployment.objects.create(
        site=site, organization_id=site.organization_id, kind=Kind.DEPLOY, trigger=trigger,
        triggered_by=actor.user, triggered_by_name=actor.name, branch=site.branch,
        commit_sha=requested, authority=authority, api_token=token,
        number=_next_number(site), force=force, **gate.fields,
    )


def _audit_override(deployment: Deployment, actor: Actor, gate: gates.Gate) -> None:
    """A freeze overridden on purpose leaves its own audit event, with the reason."""
    if gate.freeze is None or not gate.freeze_override:
        return
    audit_record(actor=actor, organization=deployment.site.organization,
                 verb="deployment.freeze_overridden", target=deployment,
                 after={"reason": gate.freeze_override, "window": gate.freeze.window.name,
                        "until": gate.freeze.ends_at.isoformat()})


def deployment_redeploy(*, deployment: Deployment, actor: Actor, trigger: str,
                        freeze_override: str | None = None) -> Deployment:
    """Deploy again exactly the commit `deployment` deployed (or tried to): a deploy request
    pinned to that commit, through deployment_request (gated, audited, enqueued the same way).
    Forced: asking for this commit again is the point, even when it is live."""
    if not FULL_SHA.fullmatch(deployment.commit_sha or ""):
        raise DeploymentError(
            f"{deployment.label} has no exact commit to deploy again (it never resolved one).")
    return deployment_request(site=deployment.site, actor=actor, trigger=trigger,
                              commit=deployment.commit_sha, redeploy_of=deployment,
                              freeze_override=freeze_override, force=True)


def _force_note(force: bool) -> dict:
    return {"force": True} if force else {}


def _redeploy_note(source: Deployment | None) -> dict:
    return {"redeploy_of": source.label} if source is not None else {}


def rollback_request(*, site: Site, release: str, actor: Actor, trigger: str) -> Deployment:
    """Queue a rollback of `site` to `release`, a rollback target (selectors.rollback_targets):
    on disk on every server per the facts, not live on all of them.

    Facts older than the site's last deployment are refreshed first (site_reconcile), so the
    answer is the servers', not the rows'. Raises DeploymentError otherwise. Audited;
    enqueues run_deployment after commit.
    """
    _refresh_outdated_facts(site, actor)
    with transaction.atomic():
        Site.objects.select_for_update().filter(pk=site.pk).first()
        source = _rollback_source(site, release)
        authority, token = authority_of(actor, trigger)
        deployment = Deployment.objects.create(
            site=site, organization_id=site.organization_id, kind=Kind.ROLLBACK, trigger=trigger,
            triggered_by=actor.user, triggered_by_name=actor.name, branch=source.branch,
            commit_sha=source.commit_sha, commit_message=source.commit_message,
            commit_author=source.commit_author, release=release, authority=authority,
            api_token=token, number=_next_number(site),
        )
        audit_record(
            actor=actor, organization=site.organization, verb="deployment.rollback_requested",
            target=deployment, after={"site": site.name, "release": release},
        )
        _supersede_waiting(deployment, actor)
        _after_commit_announce(deployment)
    return deployment


def deployment_cancel(*, deployment: Deployment, actor: Actor) -> Deployment:
    """Cancel a waiting deployment (queued, or at a gate) at once, or ask the running one to
    stop (within ~1 s).

    Raises DeploymentError for a finished deployment. Audited.
    """
    with transaction.atomic():
        row = Deployment.objects.select_for_update().get(pk=deployment.pk)
        if row.status in WAITING:
            lifecycle.deployment_cancel_queued(row)
        elif row.status == Status.RUNNING:
            row.cancel_requested_at = row.cancel_requested_at or timezone.now()
            row.save(update_fields=["cancel_requested_at"])
        else:
            raise DeploymentError(f"This deployment has already {row.status}.")
        audit_record(
            actor=actor, organization=row.site.organization, verb="deployment.cancelled",
            target=row, after={"status": row.status},
        )
    return row


def _supersede_waiting(newest: Deployment, actor: Actor) -> None:
    """Cancel every other waiting deployment of the site (queued, or at a gate): `newest`
    replaces them.

    A flood of pushes (or clicks) thus runs at most the current deployment plus the newest
    request, never a backlog of outdated commits. Call with the site row locked. Each
    superseded row ends `cancelled` with the reason in `error`, audited and announced.
    """
    waiting = Deployment.objects.select_for_update().filter(
        site_id=newest.site_id, status__in=WAITING).exclude(pk=newest.pk)
    # A queued provisioning is not an older deploy: the deploy after it needs it to run.
    waiting = waiting.exclude(kind=Kind.PROVISION)
    now = timezone.now()
    for row in waiting:
        lifecycle.check_transition(row.status, Status.CANCELLED)
        row.status, row.finished_at = Status.CANCELLED, now
        row.error = f"{SUPERSEDED} {newest.label} (a newer request)"
        row.save(update_fields=["status", "finished_at", "error"])
        audit_record(actor=actor, organization=newest.site.organization,
                     verb="deployment.superseded", target=row,
                     after={"superseded_by": newest.pk, "commit": row.commit_sha})
        transaction.on_commit(lambda row=row: lifecycle.announce(row), robust=True)


def _next_number(site: Site) -> int:
    """The next per-site deployment number. Call with the site row locked (the lock orders
    concurrent requests; the unique constraint on (site, number) backs it)."""
    last = Deployment.objects.filter(site=site).aggregate(last=Max("number"))["last"]
    return (last or 0) + 1


def _waiting_duplicate(site: Site, requested: str, status: str,
                       force: bool) -> Deployment | None:
    return (
        Deployment.objects.filter(
            site=site, kind=Kind.DEPLOY, status=status, commit_sha=requested, force=force
        )
        .order_by("id")
        .first()
    )


@dataclass(frozen=True)
class RollbackSource:
    """What a rollback row copies: from the deploy that built the release, else its REVISION."""

    branch: str
    commit_sha: str
    commit_message: str = ""
    commit_author: str = ""


def _refresh_outdated_facts(site: Site, actor: Actor) -> None:
    """Re-read the servers when the stored facts may be outdated (never for a site never
    observed: that one is judged by its rows, see selectors.rollback_targets)."""
    truth = selectors.site_truth(site=site)
    if truth.observed and any(s.stale or not s.observed for s in truth.servers):
        site_reconcile(site=site, actor=actor)


def _rollback_source(site: Site, release: str) -> RollbackSource:
    truth = selectors.site_truth(site=site)
    live = truth.live_everywhere if truth.observed else (
        truth.believed_live.release if truth.believed_live else None)
    if release and release == live:
        raise DeploymentError(f"Release {release} is already live.")
    targets = {t.release: t for t in selectors.rollback_targets(site=site, truth=truth)}
    target = targets.get(release)
    if target is None:
        raise DeploymentError(
            f"Release {release} is not a retained release of {site.name} on every server."
        )
    row = target.deployment
    if row is not None:
        return RollbackSource(row.branch, row.commit_sha or target.commit, row.commit_message,
                              row.commit_author)
    return RollbackSource(site.branch, target.commit)


def _after_commit_announce(deployment: Deployment) -> None:
    """Announce the row once it is visible to other processes: a queued one is sent to a
    worker; one waiting at a gate is announced like any status change (its notifications)."""
    if deployment.status == Status.QUEUED:
        enqueue_after_commit(deployment)
    else:
        transaction.on_commit(lambda: lifecycle.announce(deployment), robust=True)


def enqueue_after_commit(deployment: Deployment) -> None:
    """Have the task sent and announce the row, once the row is visible to other processes."""

    def go() -> None:
        deployment_queued.send_robust(sender=Deployment, deployment_id=deployment.pk)
        send_status_sync(deployment)

    # robust: a broker outage must not turn a committed request into an error page;
    # the watchdog re-sends queued deployments whose task never arrived.
    transaction.on_commit(go, robust=True)
