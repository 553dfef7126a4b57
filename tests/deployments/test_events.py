"""Status changes reach the deployment's group and the organization's group (real Redis)."""

from __future__ import annotations

import asyncio
import threading

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from deployments import lifecycle
from deployments.events import send_status_sync
from deployments.models import Trigger
from deployments.services import deployment_request
from deployments.signals import deployment_status_changed
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


def test_it_signals_each_committed_change_past_a_broken_receiver(site, caplog):
    seen: list[int] = []

    def record(sender, *, deployment_id: int, **kwargs) -> None:
        seen.append(deployment_id)

    deployment_status_changed.connect(_broken_receiver)  # connected first: it runs first
    deployment_status_changed.connect(record)
    try:
        deployment = deployment_request(site=site, actor=Actor.system(), trigger=Trigger.API)
        lifecycle.deployment_claim(deployment.pk)
        finished = lifecycle.deployment_finish(deployment_id=deployment.pk, status="succeeded")
    finally:
        deployment_status_changed.disconnect(_broken_receiver)
        deployment_status_changed.disconnect(record)
    assert finished is not None and finished.status == "succeeded"
    assert seen == [deployment.pk, deployment.pk]  # running, succeeded (queued is not a change)
    logged = [r for r in caplog.records if r.name == "django.dispatch" and r.levelname == "ERROR"]
    assert [str(r.exc_info[1]) for r in logged] == [str(BROKEN)] * 2  # running, succeeded


BROKEN = RuntimeError("a broken receiver must not break deployments")


def _broken_receiver(sender, **kwargs) -> None:
    raise BROKEN


def _connections_received() -> int:
    """How many connections the Redis server accepted so far (all clients)."""
    return redis.Redis.from_url(settings.REDIS_URL).info("stats")["total_connections_received"]


def test_statuses_sent_from_synchronous_code_share_one_redis_connection(site):
    """The worker announces from plain threads; each announce used to start an event loop and
    open a Redis connection of its own (deployments/send_loop.py)."""
    deployment = deployment_request(site=site, actor=Actor.system(), trigger=Trigger.API)
    layer, channel = async_to_sync(_subscribe)(f"deployment-{deployment.pk}")
    send_status_sync(deployment)  # the send loop is up and connected
    before = _connections_received()
    threads = [threading.Thread(target=send_status_sync, args=(deployment,)) for _ in range(SENDS)]
    for thread in threads:
        thread.start()
        send_status_sync(deployment)
    for thread in threads:
        thread.join()
    events = async_to_sync(_receive_all)(layer, channel, 1 + 2 * SENDS)
    assert {e["status"] for e in events} == {"queued"}
    # Our own INFO call above is one; other clients of the server may add a few.
    assert _connections_received() - before < SENDS


def test_the_send_loop_refuses_a_caller_on_a_running_loop(site):
    deployment = deployment_request(site=site, actor=Actor.system(), trigger=Trigger.API)

    async def from_a_loop():
        send_status_sync(deployment)

    with pytest.raises(RuntimeError, match="running event loop"):
        asyncio.run(from_a_loop())


SENDS = 8
