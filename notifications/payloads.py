"""The JSON document of a deployment event (documented in docs/notifications.md).

Built once when the event happens and handed to every channel's task as is, so a retry an
hour later sends the same bytes, not the deployment's state at that later time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from deployments.models import Deployment, Kind, Status
from deployments.release_diff import deployment_changes
from notifications.models import Event

MAX_ERROR = 2000
MAX_COMMIT_MESSAGE = 500


def event_for_status(deployment: Deployment) -> str | None:
    """The event a deployment's status announces (a successful rollback is `rolled_back`)."""
    if deployment.status == Status.RUNNING:
        return Event.STARTED
    if deployment.status == Status.SUCCEEDED:
        return Event.ROLLED_BACK if deployment.kind == Kind.ROLLBACK else Event.SUCCEEDED
    if deployment.status == Status.TIMED_OUT:
        return Event.FAILED  # subscribers of failures want timeouts too
    if deployment.status in (Status.FAILED, Status.CANCELLED):
        return str(deployment.status)
    if deployment.status == Status.AWAITING_APPROVAL:
        return Event.APPROVAL_REQUESTED
    if deployment.status in STOPPED_BEFORE_LIVE:
        return str(deployment.status)
    return None  # queued: nothing has happened yet


# Statuses of a deploy that did not go live; their event carries why (`reason`).
STOPPED_BEFORE_LIVE = (Status.SKIPPED, Status.REJECTED, Status.EXPIRED, Status.HELD)


def reason(deployment: Deployment) -> str:
    """Why a deploy did not go live: the freeze that holds it, or the error it ended with
    ("already live: …", "rejected by …: …", "expired: …"); "" for any other status."""
    if deployment.status == Status.HELD:
        return deployment.held_by
    return deployment.error if deployment.status in STOPPED_BEFORE_LIVE else ""


def iso(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a `Z`, or None."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def deployment_url(deployment: Deployment) -> str:
    """The deployment's page (or, until that page exists, the organization's dashboard)."""
    slug = deployment.site.organization.slug
    try:
        path = reverse("deployments:detail", kwargs={"org": slug, "pk": deployment.pk})
    except NoReverseMatch:
        path = reverse("dashboard", kwargs={"org": slug})
    return settings.PUBLIC_URL.rstrip("/") + path


def event_payload(deployment: Deployment, event: str, *, msg_id: str, now: datetime) -> dict:
    """`{id, type, timestamp, data: {event, organization, site, deployment}}`."""
    site = deployment.site
    return {
        "id": msg_id,
        "type": f"deployment.{event}",
        "timestamp": iso(now),
        "data": {
            "event": event,
            "organization": {"slug": site.organization.slug, "name": site.organization.name},
            "site": {"id": site.pk, "name": site.name, "domain": site.domain,
                     "branch": site.branch},
            "deployment": _deployment_fields(deployment),
        },
    }


def _deployment_fields(d: Deployment) -> dict[str, Any]:
    duration = d.duration.total_seconds() if d.duration is not None and d.finished_at else None
    return {
        "id": d.pk, "kind": d.kind, "trigger": d.trigger, "status": d.status,
        "branch": d.branch, "commit": d.commit_sha,
        "commit_message": d.commit_message[:MAX_COMMIT_MESSAGE], "commit_author": d.commit_author,
        "release": d.release, "previous_release": d.previous_release,
        "triggered_by": d.triggered_by_name, "failed_step": d.failed_step,
        "approval_role": d.approval_role_label,
        "approval_expires_at": iso(d.approval_expires_at),
        "error": d.error[:MAX_ERROR], "reason": reason(d)[:MAX_ERROR],
        "created_at": iso(d.created_at), "started_at": iso(d.started_at),
        "finished_at": iso(d.finished_at),
        "duration_seconds": round(duration, 1) if duration is not None else None,
        "url": deployment_url(d),
        "changes": changes_summary(d),
    }


def changes_summary(d: Deployment) -> dict | None:
    """The release diff's counts and one line of text (env key names, never values), from the
    kept diff only: building a payload never opens an SSH connection. None when unknown."""
    if not d.commit_sha or not d.base_commit:
        return None
    changes, _ = deployment_changes(d, read=False)
    if changes is None:
        return None
    summary = changes.summary()
    return {**summary, "destructive": summary["destructive_migrations"] > 0}


def test_payload(*, organization, site, actor_name: str, msg_id: str, now: datetime) -> dict:
    """A `deployment.test` event with made-up deployment values, for the "Send test" button."""
    path = reverse("dashboard", kwargs={"org": organization.slug})
    branch = site.branch if site is not None else "main"
    deployment = {
        "id": 0, "kind": Kind.DEPLOY, "trigger": "manual", "status": Status.SUCCEEDED,
        "branch": branch, "commit": "0" * 40, "commit_message": "Test message from Deploynix",
        "commit_author": actor_name, "release": now.strftime("%Y%m%d%H%M%S"),
        "previous_release": "", "triggered_by": actor_name, "failed_step": "", "error": "",
        "reason": "",
        "approval_role": "", "approval_expires_at": None,
        "created_at": iso(now), "started_at": iso(now), "finished_at": iso(now),
        "duration_seconds": 0.0, "url": settings.PUBLIC_URL.rstrip("/") + path, "changes": None,
    }
    site_fields = ({"id": site.pk, "name": site.name, "domain": site.domain, "branch": branch}
                   if site is not None else {"id": 0, "name": "example", "domain": "",
                                             "branch": branch})
    return {
        "id": msg_id, "type": "deployment.test", "timestamp": iso(now),
        "data": {"event": "test",
                 "organization": {"slug": organization.slug, "name": organization.name},
                 "site": site_fields, "deployment": deployment},
    }
