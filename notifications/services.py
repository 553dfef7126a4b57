"""Writes to notification channels, and the two halves of a notification: fan-out and delivery.

`notify_deployment_event` runs inside the deployment's worker: it only reads, builds the
payload once and, after commit, announces one message per channel (`notification_queued`,
notifications/signals.py; notifications/tasks.py sends the task). It never raises, so a broken
channel (or broker) cannot change a deployment's outcome. `channel_deliver` runs in the
task and records each attempt's result on the channel for the settings page.
"""

from __future__ import annotations

import logging
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from deployments.models import Deployment, Status
from notifications import messages, transport
from notifications.models import Channel, ChannelKind, Event
from notifications.payloads import event_for_status, event_payload, test_payload
from notifications.signals import approval_requested, notification_queued
from notifications.signing import new_secret, signed_headers
from notifications.validators import clean_events, clean_target
from sites.models import Site
from tenancy.audit import Actor, audit_record
from tenancy.models import Membership, Organization
from tenancy.roles import may_approve

logger = logging.getLogger(__name__)

EDITABLE = ("name", "target", "events", "enabled")
TEST_TYPE = "deployment.test"


def channel_create(
    *, organization: Organization, actor: Actor, kind: str, name: str, target: str,
    events: list[str], site: Site | None = None, enabled: bool = True,
) -> Channel:
    """Add a channel for `site` (or the whole organization). Validates target and events.

    A webhook channel gets its own signing secret. Audited (without the target: a webhook
    URL is a credential).
    """
    if site is not None and site.organization_id != organization.pk:
        raise ValueError("the site belongs to another organization")
    target, events = _validated(kind, target, events)
    channel = Channel(
        organization=organization, site=site, kind=kind, name=name.strip()[:100],
        target=target, events=events, enabled=enabled,
        secret=new_secret() if kind == ChannelKind.WEBHOOK else "",
    )
    with transaction.atomic():
        channel.save()
        audit_record(actor=actor, organization=organization, verb="notification_channel.created",
                     target=channel, after=_audit_view(channel))
    return channel


def channel_update(*, channel: Channel, actor: Actor, **changes) -> Channel:
    """Change `name`, `target`, `events` or `enabled` (the type is fixed). Audited."""
    before = _audit_view(channel)
    for field, value in changes.items():
        if field not in EDITABLE:
            raise TypeError(f"{field} cannot be changed")
        setattr(channel, field, value)
    channel.target, channel.events = _validated(channel.kind, channel.target, channel.events)
    with transaction.atomic():
        channel.save()
        audit_record(actor=actor, organization=channel.organization,
                     verb="notification_channel.updated", target=channel, before=before,
                     after=_audit_view(channel))
    return channel


def channel_rotate_secret(*, channel: Channel, actor: Actor) -> Channel:
    """Give a webhook channel a new signing secret (the old one stops working at once)."""
    with transaction.atomic():
        channel.secret = new_secret()
        channel.save(update_fields=["secret"])
        audit_record(actor=actor, organization=channel.organization,
                     verb="notification_channel.secret_rotated", target=channel)
    return channel


def channel_delete(*, channel: Channel, actor: Actor) -> None:
    """Remove a channel; messages already queued for it are dropped. Audited."""
    with transaction.atomic():
        audit_record(actor=actor, organization=channel.organization,
                     verb="notification_channel.deleted", target=channel,
                     before=_audit_view(channel))
        channel.delete()


def _validated(kind: str, target: str, events: list[str]) -> tuple[str, list[str]]:
    """(target, events) cleaned, or a ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    try:
        target = clean_target(kind, target)
    except ValidationError as exc:
        errors["target"] = exc.messages
    try:
        events = clean_events(events)
    except ValidationError as exc:
        errors["events"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return target, events


def _audit_view(channel: Channel) -> dict:
    return {"name": channel.name, "kind": channel.kind, "site": channel.site_id,
            "events": channel.events, "enabled": channel.enabled}


def notify_deployment_event(deployment_id: int, event: str) -> int:
    """Queue `event` of deployment `deployment_id` to every subscribed channel; never raises.

    Channels: the enabled ones of the deployment's site and of its whole organization that
    subscribe to `event`. Returns how many messages were queued (after commit).
    """
    try:
        # A savepoint: called inside the deployment's own transaction, a database error here
        # must roll back only this, not poison the transaction that records the outcome.
        with transaction.atomic():
            return _fan_out(deployment_id, Event(event))
    except Exception:
        logger.exception("deployment %s: could not queue %r notifications", deployment_id, event)
        return 0


def notify_deployment_status(deployment_id: int) -> int:
    """Queue the event the deployment's current status announces; never raises.

    running: started; succeeded: succeeded (rolled_back for a rollback); failed; cancelled.
    Call it once after each committed status change; a queued deployment announces nothing.
    """
    try:
        deployment = Deployment.objects.filter(pk=deployment_id).only("kind", "status").first()
        event = event_for_status(deployment) if deployment is not None else None
    except Exception:
        logger.exception("deployment %s: could not read its status", deployment_id)
        return 0
    return notify_deployment_event(deployment_id, event) if event else 0


def notify_status_change(
    sender, *, deployment_id: int, status: str | None = None, **kwargs
) -> None:
    """deployment_status_changed receiver (connected in NotificationsConfig.ready())."""
    notify_deployment_status(deployment_id)
    if status is None or status == Status.AWAITING_APPROVAL:
        notify_approvers(deployment_id)


def notify_approvers(deployment_id: int) -> int:
    """E-mail every member who may approve a deployment awaiting approval (the required role
    or higher, never its requester); never raises. Returns how many were addressed."""
    try:
        deployment = (Deployment.objects.select_related("site__organization")
                      .filter(pk=deployment_id, status=Status.AWAITING_APPROVAL).first())
        recipients = approver_emails(deployment) if deployment is not None else []
        if recipients:
            payload = event_payload(deployment, Event.APPROVAL_REQUESTED,
                                    msg_id=f"msg_{uuid.uuid4().hex}", now=timezone.now())
            transaction.on_commit(
                lambda: approval_requested.send_robust(
                    sender=Deployment, recipients=recipients, payload=payload), robust=True)
        return len(recipients)
    except Exception:
        logger.exception("deployment %s: could not notify its approvers", deployment_id)
        return 0


def approver_emails(deployment: Deployment) -> list[str]:
    """The e-mail addresses of the active members who may approve `deployment`."""
    members = Membership.objects.filter(
        organization_id=deployment.organization_id, user__is_active=True,
    ).exclude(user_id=deployment.triggered_by_id).select_related("user").order_by("user__email")
    required = deployment.approval_role or 0
    return [m.user.email for m in members if may_approve(m.role, required) and m.user.email]


def approval_mail_deliver(*, recipients: list[str], payload: dict) -> None:
    """Send the approval request mail (raises DeliveryError, for the task's retries)."""
    subject, body = messages.email_message(payload)
    transport.send_email(recipients, subject, body)


def _fan_out(deployment_id: int, event: Event) -> int:
    # The channels first, found through the deployment in the same statement: most sites
    # have none, and the deployment's full row (for the payload) is read only when one listens.
    row = Deployment.objects.filter(pk=deployment_id)
    channel_ids = [
        c.pk for c in Channel.objects.listening_to_site_of(row).only("id", "events")
        if event in c.events
    ]
    if not channel_ids:
        return 0
    deployment = row.select_related("site__organization").first()
    if deployment is None:
        return 0
    payload = event_payload(
        deployment, event, msg_id=f"msg_{uuid.uuid4().hex}", now=timezone.now()
    )
    for channel_id in channel_ids:
        # robust: a broker hiccup loses this message, never the deployment's bookkeeping.
        transaction.on_commit(lambda cid=channel_id: _queue(cid, payload), robust=True)
    return len(channel_ids)


def _queue(channel_id: int, payload: dict) -> None:
    """Announce one message for delivery (after commit); a failing receiver is logged."""
    notification_queued.send_robust(sender=Channel, channel_id=channel_id, payload=payload)


def channel_send_test(*, channel: Channel, actor: Actor) -> None:
    """Queue a `deployment.test` message to `channel` (after commit), to check its settings."""
    payload = test_payload(organization=channel.organization, site=channel.site,
                           actor_name=actor.name, msg_id=f"msg_{uuid.uuid4().hex}",
                           now=timezone.now())
    transaction.on_commit(lambda: _queue(channel.pk, payload), robust=True)


def channel_deliver(*, channel_id: int, payload: dict) -> str:
    """Send `payload` to one channel and record the attempt; raise DeliveryError on failure.

    Returns "sent", or "skipped" for a channel deleted or disabled since the event (a test
    message is sent to a disabled channel too: checking it before enabling it is the point).
    """
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None or not (channel.enabled or payload.get("type") == TEST_TYPE):
        return "skipped"
    try:
        SENDERS[channel.kind](channel, payload)
    except transport.DeliveryError as exc:
        _record_error(channel_id, str(exc))
        raise
    except Exception as exc:
        # Our bug, not the receiver's: not retried, but visible on the settings page.
        _record_error(channel_id, f"internal error ({exc.__class__.__name__}); see the worker log")
        raise
    Channel.objects.filter(pk=channel_id).update(last_success_at=timezone.now())
    return "sent"


def _record_error(channel_id: int, error: str) -> None:
    Channel.objects.filter(pk=channel_id).update(last_error=error[:1000],
                                                 last_error_at=timezone.now())


def _send_webhook(channel: Channel, payload: dict) -> None:
    body = transport.json_body(payload)
    # A fresh timestamp per attempt (receivers refuse stale ones); the id stays the same so
    # a receiver can drop a retry of a message it already processed.
    stamp = int(timezone.now().timestamp())
    transport.post_json(channel.target, body, signed_headers(channel.secret, payload["id"],
                                                             stamp, body))


def _send_slack(channel: Channel, payload: dict) -> None:
    transport.post_json(channel.target, transport.json_body(messages.slack_message(payload)))


def _send_discord(channel: Channel, payload: dict) -> None:
    transport.post_json(channel.target, transport.json_body(messages.discord_message(payload)))


def _send_email(channel: Channel, payload: dict) -> None:
    subject, body = messages.email_message(payload)
    transport.send_email([a.strip() for a in channel.target.split(",")], subject, body)


SENDERS = {
    ChannelKind.WEBHOOK: _send_webhook,
    ChannelKind.SLACK: _send_slack,
    ChannelKind.DISCORD: _send_discord,
    ChannelKind.EMAIL: _send_email,
}
