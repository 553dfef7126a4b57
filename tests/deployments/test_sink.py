"""DeploymentSink against real PostgreSQL and the real Redis channel layer."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connections
from django.utils import timezone

from deployments.models import Deployment, DeploymentStep, LogLine, Status
from deployments.sink import DeploymentSink

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
SECRET = "s3cr3t-db-password"


@pytest.fixture(autouse=True)
async def close_async_connections():
    """The async ORM's worker thread keeps a connection; close it so the test DB can go."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def running(site):
    return Deployment.objects.create(
        site=site, organization=site.organization, branch="main", status=Status.RUNNING,
        started_at=timezone.now(), heartbeat_at=timezone.now(),
    )


async def _subscribe(deployment: Deployment) -> tuple:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(f"deployment-{deployment.pk}", channel)
    return layer, channel


async def _stored_texts(deployment: Deployment) -> list[str]:
    lines = LogLine.objects.filter(deployment=deployment).order_by("seq")
    return [line.text async for line in lines]


async def test_it_redacts_secrets_before_storing_and_broadcasting(running):
    layer, channel = await _subscribe(running)
    sink = DeploymentSink(deployment_id=running.pk, secrets=[SECRET, "s3cr3t"])
    await sink.line("web-1", "out", f"DB_PASSWORD={SECRET} and again {SECRET}", 1.0)
    await sink.flush()
    event = await asyncio.wait_for(layer.receive(channel), 5)
    assert SECRET not in str(event) and "s3cr3t" not in str(event)
    assert await _stored_texts(running) == ["DB_PASSWORD=******** and again ********"]


async def test_it_stores_a_batch_before_broadcasting_it(running):
    layer, channel = await _subscribe(running)
    sink = DeploymentSink(deployment_id=running.pk)
    for n in range(3):
        await sink.line("web-1", "out", f"line {n}", 1.0)
    await sink.flush()
    event = await asyncio.wait_for(layer.receive(channel), 5)
    stored = await LogLine.objects.filter(deployment=running).acount()
    assert event["type"] == "log.batch" and [line["seq"] for line in event["lines"]] == [1, 2, 3]
    assert stored == 3


@pytest.mark.slow
async def test_it_keeps_every_line_of_a_10000_lines_per_second_burst(running):
    sink = DeploymentSink(deployment_id=running.pk)
    await sink.start(asyncio.Event())
    for n in range(20_000):
        await sink.line("web-1", "out" if n % 2 else "err", f"output line {n}", 1.0)
        if n % 10 == 0:
            await asyncio.sleep(0)  # let the background flush run, like a real stream
    await sink.close()
    seqs = await sync_to_async(list)(
        LogLine.objects.filter(deployment=running).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, 20_001))


async def test_it_records_steps_with_status_and_exit_code(running):
    sink = DeploymentSink(deployment_id=running.pk)
    await sink.step_started("install", "web-1")
    await sink.line("web-1", "out", "installing", 1.0)
    await sink.step_finished("install", "web-1", "failed", 2, error=f"exit 2 {SECRET}")
    step = await DeploymentStep.objects.aget(deployment=running)
    assert (step.name, step.status, step.exit_code) == ("install", "failed", 2)
    assert step.finished_at is not None


async def test_it_sets_the_cancel_event_when_a_cancel_is_requested(running):
    cancel = asyncio.Event()
    sink = DeploymentSink(deployment_id=running.pk)
    await sink.start(cancel)
    await Deployment.objects.filter(pk=running.pk).aupdate(cancel_requested_at=timezone.now())
    await asyncio.wait_for(cancel.wait(), 5)
    await sink.close()
    assert cancel.is_set()


async def test_it_bumps_the_heartbeat_while_running(running):
    before = running.heartbeat_at
    sink = DeploymentSink(deployment_id=running.pk)
    await sink.start(asyncio.Event())
    await asyncio.sleep(0.5)
    await sink.close()
    after = (await Deployment.objects.aget(pk=running.pk)).heartbeat_at
    assert after > before


async def test_it_stores_lines_postgres_cannot_hold_verbatim(running):
    sink = DeploymentSink(deployment_id=running.pk)
    await sink.line("web-1", "out", "nul\0byte and \udcff surrogate", 1.0)
    await sink.flush()
    [text] = await _stored_texts(running)
    assert text.startswith("nul\ufffdbyte and ")
