"""Status changes reach the deployment's group and the organization's group (real Redis)."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from deployments import lifecycle
from deployments.models import Trigger
from deployments.services import deployment_request
from tenancy.audit import Actor

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


async def _subscribe(*groups: str):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    for group in groups:
        await layer.group_add(group, channel)
    return layer, channel


async def _receive_all(layer, channel, count: int) -> list[dict]:
    return [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(count)]


def test_it_announces_queued_then_running_to_the_organization(site, cast):
    layer, channel = async_to_sync(_subscribe)(f"org-{cast.org.pk}")
    deployment = deployment_request(site=site, actor=Actor.system(), trigger=Trigger.API)
    lifecycle.deployment_claim(deployment.pk)
    events = async_to_sync(_receive_all)(layer, channel, 2)
    assert [e["status"] for e in events] == ["queued", "running"]
    assert {e["deployment_id"] for e in events} == {deployment.pk}


def test_it_announces_the_outcome_on_the_deployments_group(site):
    deployment = deployment_request(site=site, actor=Actor.system(), trigger=Trigger.API)
    lifecycle.deployment_claim(deployment.pk)
    layer, channel = async_to_sync(_subscribe)(f"deployment-{deployment.pk}")
    lifecycle.deployment_finish(deployment_id=deployment.pk, status="failed", error="exit 3")
    [event] = async_to_sync(_receive_all)(layer, channel, 1)
    assert (event["type"], event["status"]) == ("deployment.status", "failed")
    assert event["error"] == "exit 3"


def test_it_calls_status_hooks_after_each_committed_change(site, monkeypatch):
    seen: list[int] = []
    monkeypatch.setattr(lifecycle, "DEPLOYMENT_STATUS_HOOKS", [seen.append, _broken_hook])
    deployment = deployment_request(site=site, actor=Actor.system(), trigger=Trigger.API)
    lifecycle.deployment_claim(deployment.pk)
    lifecycle.deployment_finish(deployment_id=deployment.pk, status="succeeded")
    assert seen == [deployment.pk, deployment.pk]  # running, succeeded (queued is not a change)


def _broken_hook(deployment_id: int) -> None:
    raise RuntimeError("a broken hook must not break deployments")
