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

from deployments import lifecycle, selectors
from deployments.authority import authority_of
from deployments.events import send_status_sync
from deployments.models import Deployment, Kind, Status
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
    redeploy_of: Deployment | None = None,
) -> Deployment:
    """Queue a deploy of `site` (branch head, or exactly `commit`).

    While another deployment of the site runs, the new one waits. At most one waits per site:
    a queued request for the same commit (or branch head) is returned instead of a new one,
    and any other queued deployment is superseded by the new one (the newest request wins).
    Audited; enqueues run_deployment after commit.
    """
    requested = (commit or "").strip().lower()
    if requested and not FULL_SHA.fullmatch(requested):
        raise DeploymentError("A commit must be given as its full 40-character SHA.")
    if not site.servers.exists():
        raise DeploymentError(f"{site.name} has no server to deploy to; add one first.")
    with transaction.atomic():
        # Serialize requests per site so two identical triggers cannot both miss each other.
        Site.objects.select_for_update().filter(pk=site.pk).first()
        duplicate = _queued_duplicate(site, requested)
        if duplicate is not None:
            return duplicate
        authority, token = authority_of(actor, trigger)
        deployment = Deployment.objects.create(
            site=site, organization_id=site.organization_id, kind=Kind.DEPLOY, trigger=trigger,
            triggered_by=actor.user, triggered_by_name=actor.name, branch=site.branch,
            commit_sha=requested, authority=authority, api_token=token,
            number=_next_number(site),
        )
        audit_record(
            actor=actor, organization=site.organization, verb="deployment.requested",
            target=deployment, after={"site": site.name, "trigger": trigger, "commit": requested,
                                      **_redeploy_note(redeploy_of)},
        )
        _supersede_queued(deployment, actor)
        _after_commit_enqueue(deployment)
    return deployment


def deployment_redeploy(*, deployment: Deployment, actor: Actor, trigger: str) -> Deployment:
    """Deploy again exactly the commit `deployment` deployed (or tried to): a deploy request
    pinned to that commit, through deployment_request (queued, audited, enqueued the same way)."""
    if not FULL_SHA.fullmatch(deployment.commit_sha or ""):
        raise DeploymentError(
            f"{deployment.label} has no exact commit to deploy again (it never resolved one).")
    return deployment_request(site=deployment.site, actor=actor, trigger=trigger,
                              commit=deployment.commit_sha, redeploy_of=deployment)


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
        _supersede_queued(deployment, actor)
        _after_commit_enqueue(deployment)
    return deployment


def deployment_cancel(*, deployment: Deployment, actor: Actor) -> Deployment:
    """Cancel a queued deployment at once, or ask the running one to stop (within ~1 s).

    Raises DeploymentError for a finished deployment. Audited.
    """
    with transaction.atomic():
        row = Deployment.objects.select_for_update().get(pk=deployment.pk)
        if row.status == Status.QUEUED:
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


def _supersede_queued(newest: Deployment, actor: Actor) -> None:
    """Cancel every other queued deployment of the site: `newest` replaces them.

    A flood of pushes (or clicks) thus runs at most the current deployment plus the newest
    request, never a backlog of outdated commits. Call with the site row locked. Each
    superseded row ends `cancelled` with the reason in `error`, audited and announced.
    """
    waiting = Deployment.objects.select_for_update().filter(
        site_id=newest.site_id, status=Status.QUEUED).exclude(pk=newest.pk)
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


def _queued_duplicate(site: Site, requested: str) -> Deployment | None:
    return (
        Deployment.objects.filter(
            site=site, kind=Kind.DEPLOY, status=Status.QUEUED, commit_sha=requested
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


def _after_commit_enqueue(deployment: Deployment) -> None:
    """Have the task sent and announce the row, once the row is visible to other processes."""

    def go() -> None:
        deployment_queued.send_robust(sender=Deployment, deployment_id=deployment.pk)
        send_status_sync(deployment)

    # robust: a broker outage must not turn a committed request into an error page;
    # the watchdog re-sends queued deployments whose task never arrived.
    transaction.on_commit(go, robust=True)
