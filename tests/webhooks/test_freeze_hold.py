"""A signed push during a freeze window is held, not deployed, and the beat sweep queues it
once the window has ended (time driven by the window, set relative to now)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from deployments.models import Deployment, Status
from deployments.tasks import gates_sweep
from sites.freezes import freeze_window_create
from tenancy.audit import Actor
from tests.webhooks.signing import push
from webhooks.models import WebhookDelivery


def test_a_push_during_a_freeze_is_held_then_released_after_it(deliver, secret, site, cast):
    now = timezone.now()
    window = freeze_window_create(organization=cast.org, site=site, actor=Actor(user=cast.owner),
                                  name="Launch", kind="once", starts_at=now - timedelta(minutes=1),
                                  ends_at=now + timedelta(hours=1))
    assert deliver("github", *push("github", secret)).status_code == 202
    deployment = Deployment.objects.get()
    assert deployment.status == Status.HELD
    assert WebhookDelivery.objects.get().reason.endswith("(held by a freeze)")
    gates_sweep()  # the beat task, called as beat would, while the window lasts
    assert Deployment.objects.get().status == Status.HELD
    window.starts_at, window.ends_at = now - timedelta(hours=2), now - timedelta(seconds=1)
    window.save(update_fields=["starts_at", "ends_at"])
    gates_sweep()
    assert Deployment.objects.get().status == Status.QUEUED
