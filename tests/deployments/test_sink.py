"""DeploymentSink against real PostgreSQL and the real Redis channel layer.

Lost connections are real too: another connection ends the sink's backend with
pg_terminate_backend, as a database restart would (tests/faults/test_database.py restarts one).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from deployments.models import Deployment, DeploymentStep, LogLine, Status
from deployments.sink import DeploymentSink, _StepRecord, store_lines
from sites.models import Site
from tests.fixtures.queries import all_queries

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
SECRET = "s3cr3t-db-password"
# pg_terminate_backend ends a connection from outside, the way a PostgreSQL restart does.
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


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


def _step_record(deployment: Deployment):
    return _StepRecord(deployment.pk, 1, name="prepare", server="web-1", status="running",
                       started_at=timezone.now())


def test_a_step_is_recorded_with_one_insert(running, django_assert_num_queries):
    with django_assert_num_queries(1):
        pk = _step_record(running)()
    assert DeploymentStep.objects.get(pk=pk).name == "prepare"


def test_a_retried_step_record_finds_the_row_its_first_attempt_committed(running):
    record = _step_record(running)
    first = record()  # committed, but its answer lost with the connection: the retry calls again
    assert record() == first
    assert DeploymentStep.objects.filter(deployment=running).count() == 1


async def _subscribe(deployment: Deployment) -> tuple:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(f"deployment-{deployment.pk}", channel)
    return layer, channel


async def _received(layer, channel, count: int) -> list[dict]:
    """The next `count` events on `channel`, each event of a bundle (deployment.events) on
    its own, in order."""
    found: list[dict] = []
    while len(found) < count:
        message = await asyncio.wait_for(layer.receive(channel), 5)
        found.extend(message["events"] if message["type"] == "deployment.events" else [message])
    return found


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


def _event_seqs(event: dict) -> list[int]:
    """The seqs of a log.batch as the browser reads them (each line is encoded once)."""
    return [json.loads(line)["seq"] for line in event["lines"]]


def _lock_log_table(locked: threading.Event, release: threading.Event) -> None:
    """Hold a lock that makes every COPY into the log table wait, until `release` is set."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {LogLine._meta.db_table} IN EXCLUSIVE MODE")  # noqa: S608
        locked.set()
        release.wait(30)


@postgres_only
async def test_it_broadcasts_batches_while_their_copy_waits_and_stores_them_in_order(running):
    layer, channel = await _subscribe(running)
    sink = DeploymentSink(deployment_id=running.pk)
    locked, release = threading.Event(), threading.Event()
    holder = asyncio.ensure_future(_elsewhere(_lock_log_table, locked, release))
    await sync_to_async(locked.wait, thread_sensitive=False)(10)
    await sink.start(asyncio.Event())
    try:
        await sink.line("web-1", "out", "first", 1.0)
        first = await asyncio.wait_for(layer.receive(channel), 5)  # while its COPY waits
        await sink.line("web-1", "out", "second", 1.0)
        second = await asyncio.wait_for(layer.receive(channel), 5)
    finally:
        release.set()  # a failing test must not leave the table locked for the next ones
        await holder
    await sink.close()
    assert _event_seqs(first) == [1] and _event_seqs(second) == [2]
    assert await _stored_seqs(running) == [1, 2]


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


async def test_it_stores_copy_syntax_in_a_line_verbatim(running):
    # The COPY text is built by hand (sink.copy_text): its own syntax must come back as it went.
    text = "C:\\path\\n\ttab \\. end\\"
    sink = DeploymentSink(deployment_id=running.pk)
    await sink.line("web\\1", "out", text, 1.5)
    await sink.flush()
    line = await LogLine.objects.aget(deployment=running)
    assert (line.server, line.text, line.ts.timestamp()) == ("web\\1", text, 1.5)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


async def _sink_backend_pid() -> int:
    """The backend of the thread the sink's ORM calls run in (asgiref's thread-sensitive one)."""
    return await sync_to_async(_backend_pid)()


async def _elsewhere(work, *args):
    """Run `work` on another thread, hence another connection (closed afterwards)."""

    def run():
        try:
            return work(*args)
        finally:
            connection.close()

    return await sync_to_async(run, thread_sensitive=False)()


def _terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])  # waits until it is gone


async def _stored_seqs(deployment: Deployment) -> list[int]:
    lines = LogLine.objects.filter(deployment=deployment).order_by("seq")
    return [seq async for seq in lines.values_list("seq", flat=True)]


def _outage_records(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "deployments.dbretry"]


@postgres_only
async def test_it_writes_lines_and_steps_again_after_losing_its_connection(running, caplog):
    caplog.set_level(logging.WARNING, logger="deployments.dbretry")
    layer, channel = await _subscribe(running)
    sink = DeploymentSink(deployment_id=running.pk)
    await _elsewhere(_terminate, await _sink_backend_pid())
    await sink.step_started("install", "web-1")
    for n in range(3):
        await sink.line("web-1", "out", f"line {n}", 1.0)
    await sink.step_finished("install", "web-1", "succeeded", 0)
    started, batch, finished = await _received(layer, channel, 3)
    assert [started["status"], _event_seqs(batch), finished["status"]] == [
        "running", [1, 2, 3], "succeeded"]
    assert await _stored_seqs(running) == [1, 2, 3]
    step = await DeploymentStep.objects.aget(deployment=running)
    assert (step.status, step.exit_code) == ("succeeded", 0)
    [lost, back] = _outage_records(caplog)
    assert "connection lost" in lost and "connection back" in back


@postgres_only
async def test_a_retried_batch_skips_the_lines_a_lost_write_had_stored(running):
    sink = DeploymentSink(deployment_id=running.pk)
    for n in range(1, 6):
        await sink.line("web-1", "out", f"line {n}", 1.0)
    pid = await _sink_backend_pid()
    await sink.flush()  # lines 1-5 stored; now the sink's next batch meets a dead connection
    for n in range(6, 11):
        await sink.line("web-1", "out", f"line {n}", 1.0)
    await _elsewhere(_terminate, pid)
    # What a COPY whose commit reached the server just before its connection died leaves:
    # part of the batch stored, though the sink saw only the error.
    await _elsewhere(store_lines, running.pk, [(n, "web-1", "out", f"line {n}", 1.0)
                                               for n in (6, 7)])
    await sink.flush()
    assert await _stored_seqs(running) == list(range(1, 11))


@postgres_only
async def test_its_heartbeat_and_cancel_watch_resume_after_losing_the_connection(running):
    cancel = asyncio.Event()
    sink = DeploymentSink(deployment_id=running.pk)
    await sink.start(cancel)
    await asyncio.sleep(0.1)  # the background loop has used its connection
    await _elsewhere(_terminate, await _sink_backend_pid())
    lost_at = timezone.now()
    await _elsewhere(
        lambda: Deployment.objects.filter(pk=running.pk).update(cancel_requested_at=lost_at)
    )
    await asyncio.wait_for(cancel.wait(), 5)
    await asyncio.sleep(sink.HEARTBEAT_INTERVAL + 0.5)
    await sink.close()
    assert (await Deployment.objects.aget(pk=running.pk)).heartbeat_at > lost_at



async def test_the_lease_check_after_a_step_closed_reads_nothing_more(running):
    sink = DeploymentSink(deployment_id=running.pk)
    await sink.step_started("install", "web-1")
    await sink.step_finished("install", "web-1", "succeeded", 0)
    await sync_to_async(connections.close_all)()  # its next query opens one all_queries sees
    with all_queries() as statements:
        reason = await sink.lease_lost()
    assert (reason, statements) == ("", [])


async def test_a_step_that_ends_after_the_site_moved_on_is_recorded_and_reports_it(running):
    sink = DeploymentSink(deployment_id=running.pk)
    await sink.step_started("install", "web-1")
    await Site.objects.filter(pk=running.site_id).aupdate(deploy_epoch=F("deploy_epoch") + 1)
    await sink.step_finished("install", "web-1", "succeeded", 0)
    step = await DeploymentStep.objects.aget(deployment=running)
    assert step.status == "succeeded"
    assert "the site was taken over" in await sink.lease_lost()


async def test_statuses_and_lines_reach_the_group_in_the_order_they_happened(running):
    layer, channel = await _subscribe(running)
    sink = DeploymentSink(deployment_id=running.pk)
    for step in ("install", "migrate"):
        await sink.step_started(step, "web-1")
        await sink.line("web-1", "out", f"{step} output", 1.0)
        await sink.step_finished(step, "web-1", "succeeded", 0)
    await sink.close()
    shown = [(e["type"], e.get("step"), e.get("status"), e.get("last_seq"))
             for e in await _received(layer, channel, 6)]
    assert shown == [
        ("step.status", "install", "running", 0), ("log.batch", None, None, None),
        ("step.status", "install", "succeeded", 1), ("step.status", "migrate", "running", 1),
        ("log.batch", None, None, None), ("step.status", "migrate", "succeeded", 2),
    ]
