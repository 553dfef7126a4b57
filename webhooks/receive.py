"""Receiving one delivery: verify, parse, decide, record, deploy. The view only reads the body.

Order matters: the signature is checked over the raw bytes before anything is parsed, and the
delivery row that claims the delivery id is inserted in the same transaction as the deployment
request, so concurrent copies of one delivery deploy once (the losers hit the unique index).

Replays: a provider signs the body, not the delivery id, so a captured push re-sent with a new
id verifies. Each acted-on delivery therefore also claims the digest of its signed body, per
site and across providers (webhooks/models.py): the same body again, under any id and at any of
the site's endpoints, is recorded as a duplicate and deploys nothing. A push of an old commit
that gets through anyway (a new body) is refused by the deploy itself, which only moves a site
forward (deployments/pipeline/steps.py `_refuse_backwards`; webhooks/receivers.py records why).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from deployments.models import Status, Trigger
from deployments.services import DeploymentError, deployment_request
from sites.models import Site
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from webhooks.models import ACTED_ON, Decision, WebhookDelivery
from webhooks.parse import PayloadError, PushEvent, decide, parse
from webhooks.secrets import webhook_secret_get
from webhooks.verify import SignatureError, verify

# Anyone who knows a hook URL can post to it; without a bound, unsigned junk would grow the
# table forever. Past this many refusals per site and minute, refusals are answered (401/400/413
# as usual) but no longer recorded.
REFUSALS_RECORDED_PER_MINUTE = 60


@dataclass(frozen=True)
class Outcome:
    status: int
    decision: str
    reason: str
    deployment_id: int | None = None


def webhook_receive(
    *, site: Site, provider: str, headers: Mapping[str, str], body: bytes, ip: str | None
) -> Outcome:
    """Handle one delivery for `site`; every path leaves exactly one WebhookDelivery row."""
    record = {"site": site, "provider": provider, "remote_ip": ip,
              "body_digest": hashlib.sha256(body).hexdigest()}
    try:
        verify(provider, webhook_secret_get(site=site), headers, body)
    except SignatureError as exc:
        return _refuse(record, 401, f"refused: bad signature ({exc})")
    record["signature_ok"] = True
    try:
        event = parse(provider, headers, body)
    except PayloadError as exc:
        return _refuse(record, 400, f"refused: malformed ({exc})")
    record.update(event=event.event[:100], delivery_id=event.delivery_id)
    return _act(site, event, record)


def webhook_refuse(
    *, site: Site, provider: str, ip: str | None, status: int, reason: str
) -> Outcome:
    """Record a delivery refused before its body was read (e.g. too large)."""
    return _refuse({"site": site, "provider": provider, "remote_ip": ip}, status, reason)


def _refuse(record: dict, status: int, reason: str) -> Outcome:
    if _recent_refusals(record["site"]) < REFUSALS_RECORDED_PER_MINUTE:
        WebhookDelivery.objects.create(decision=Decision.REFUSED, reason=reason[:200], **record)
    return Outcome(status, Decision.REFUSED, reason)


def _recent_refusals(site: Site) -> int:
    since = timezone.now() - timedelta(minutes=1)
    return WebhookDelivery.objects.filter(
        site=site, decision=Decision.REFUSED, received_at__gte=since
    ).count()


def _act(site: Site, event: PushEvent, record: dict) -> Outcome:
    verdict = decide(event, branch=site.branch, repository=site.repository_url,
                     auto_deploy=site.auto_deploy)
    record.update(branch=verdict.branch, commit=verdict.commit)
    kind = Decision.DEPLOYED if verdict.deploy else Decision.IGNORED
    seen = _seen_before(site, record)
    if seen:
        return _duplicate(record, seen)
    with transaction.atomic():
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(decision=kind, reason=verdict.reason,
                                                          **record)
        except IntegrityError:
            return _duplicate(record)
        if not verdict.deploy:
            return Outcome(200, kind, verdict.reason)
        return _deploy(site, delivery, verdict.commit)


def _deploy(site: Site, delivery: WebhookDelivery, commit: str) -> Outcome:
    actor = Actor(user=None, source=AuditEvent.Source.WEBHOOK, ip=delivery.remote_ip)
    try:
        deployment = deployment_request(site=site, actor=actor, trigger=Trigger.WEBHOOK,
                                        commit=commit)
    except DeploymentError as exc:
        delivery.decision, delivery.reason = Decision.REFUSED, f"refused: {exc}"[:200]
        delivery.save(update_fields=["decision", "reason"])
        return Outcome(422, delivery.decision, delivery.reason)
    gate = {Status.HELD: " (held by a freeze)",
            Status.AWAITING_APPROVAL: " (awaiting approval)"}.get(deployment.status, "")
    delivery.deployment, delivery.reason = deployment, f"deployed {deployment.label}{gate}"
    delivery.save(update_fields=["deployment", "reason"])
    return Outcome(202, Decision.DEPLOYED, delivery.reason, deployment.pk)


def _seen_before(site: Site, record: dict) -> str:
    """Why this verified delivery was already handled for `site` ("" if it was not)."""
    handled = WebhookDelivery.objects.filter(
        site=site, signature_ok=True, decision__in=ACTED_ON
    )
    first = handled.filter(delivery_id=record["delivery_id"]).order_by("id").first()
    if first is not None:
        return f"duplicate: delivery id already handled ({first.provider})"
    first = handled.filter(body_digest=record["body_digest"]).order_by("id").first()
    if first is not None:
        return (f"duplicate: replay of delivery {first.delivery_id[:40]} "
                f"({first.provider}) under a new id")
    return ""


def _duplicate(record: dict, reason: str = "duplicate: delivery already handled") -> Outcome:
    WebhookDelivery.objects.create(decision=Decision.DUPLICATE, reason=reason[:200], **record)
    return Outcome(200, Decision.DUPLICATE, reason)
