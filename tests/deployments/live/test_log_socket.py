"""The log socket: stored lines after `?after=`, then live batches; each seq once, in order."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from deployments.consumers import DeploymentLogConsumer
from deployments.events import StepStatusEvent, deployment_group, live_line, log_batch_event
from tests.deployments.live.conftest import line_text, receive_lines
from tests.fixtures.live import broadcast_lines, store_and_broadcast, store_lines

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


async def test_it_replays_stored_lines_after_seq_then_forwards_live_batches(
    cast, deployment, ws_open
):
    await sync_to_async(store_lines)(deployment, ["one", "two", "three"])
    socket, _ = await ws_open(cast.developer, f"/ws/deployments/{deployment.pk}/?after=1")
    backlog = await receive_lines(socket, 2)
    await store_and_broadcast(deployment, ["four"])
    live = await receive_lines(socket, 1)
    assert [line_text(line) for line in backlog] == ["two", "three"]
    assert [(line["seq"], line_text(line)) for line in live] == [(4, "four")]


async def test_it_drops_lines_it_already_sent(cast, deployment, ws_open):
    sent = await sync_to_async(store_lines)(deployment, ["a", "b"])
    socket, _ = await ws_open(cast.developer, f"/ws/deployments/{deployment.pk}/")
    await receive_lines(socket, 2)
    await broadcast_lines(deployment.pk, sent)  # the same batch again, as after a late broadcast
    new = await store_and_broadcast(deployment, ["c"])
    frame = await socket.receive_json_from(timeout=5)
    assert [(line["seq"], line_text(line)) for line in frame["lines"]] == [(new[0]["seq"], "c")]
    assert await socket.receive_nothing(timeout=0.3)


async def test_it_reads_a_missed_batch_back_from_the_database(cast, deployment, ws_open):
    socket, _ = await ws_open(cast.developer, f"/ws/deployments/{deployment.pk}/")
    await sync_to_async(store_lines)(deployment, ["persisted, never broadcast"])
    await store_and_broadcast(deployment, ["next"])
    lines = await receive_lines(socket, 2)
    assert [(line["seq"], line_text(line)) for line in lines] == [
        (1, "persisted, never broadcast"), (2, "next"),
    ]


async def test_it_sends_a_long_backlog_in_order_in_chunks(cast, deployment, ws_open):
    count = DeploymentLogConsumer.chunk_size * 2 + 7
    await sync_to_async(store_lines)(deployment, [f"line {n}" for n in range(1, count + 1)])
    socket, _ = await ws_open(cast.viewer, f"/ws/deployments/{deployment.pk}/?after=0")
    lines = await receive_lines(socket, count)
    assert [line["seq"] for line in lines] == list(range(1, count + 1))


async def test_it_forwards_status_changes(cast, deployment, ws_open):
    from deployments.events import send_status

    socket, _ = await ws_open(cast.viewer, f"/ws/deployments/{deployment.pk}/")
    deployment.status = "succeeded"
    await send_status(deployment)
    frame = await socket.receive_json_from(timeout=5)
    assert (frame["type"], frame["status"]) == ("deployment.status", "succeeded")


async def test_it_streams_what_the_real_sink_writes_once_each_in_order(cast, deployment, ws_open):
    from deployments.sink import DeploymentSink

    socket, _ = await ws_open(cast.developer, f"/ws/deployments/{deployment.pk}/")
    sink = DeploymentSink(deployment_id=deployment.pk)
    await sink.step_started("fetch_code", "web1")
    for n in range(1234):
        await sink.line("web1", "out", f"line {n}", time.time())
    await sink.close()
    lines = await receive_lines(socket, 1234)
    assert [line["seq"] for line in lines] == list(range(1, 1235))
    assert await socket.receive_nothing(timeout=0.5)


async def test_it_loses_and_repeats_nothing_when_joining_mid_stream(cast, deployment, ws_open):
    from deployments.sink import DeploymentSink

    sink = DeploymentSink(deployment_id=deployment.pk)

    async def produce() -> None:
        for n in range(3000):
            await sink.line("web1", "out", f"line {n}", time.time())
            if n % 50 == 0:
                await sink.flush()
                await asyncio.sleep(0.005)
        await sink.close()

    producer = asyncio.create_task(produce())
    await asyncio.sleep(0.1)  # some lines are stored (and broadcast to no one) before we join
    socket, _ = await ws_open(cast.developer, f"/ws/deployments/{deployment.pk}/")
    await producer
    lines = await receive_lines(socket, 3000, timeout=10)
    assert [line["seq"] for line in lines] == list(range(1, 3001))
    assert await socket.receive_nothing(timeout=0.5)


async def test_it_gives_every_watcher_the_same_lines(cast, deployment, ws_open):
    sockets = [
        (await ws_open(user, f"/ws/deployments/{deployment.pk}/"))[0]
        for user in (cast.owner, cast.developer, cast.viewer) * 5
    ]
    sent = await store_and_broadcast(deployment, [f"line {n}" for n in range(100)])
    received = await asyncio.gather(*(receive_lines(socket, 100) for socket in sockets))
    assert all(lines == [live_line(**line) for line in sent] for lines in received)


async def test_it_splits_a_huge_live_batch_into_frames_under_the_size_limit(
    cast, deployment, ws_open
):
    socket, _ = await ws_open(cast.viewer, f"/ws/deployments/{deployment.pk}/")
    count = DeploymentLogConsumer.chunk_size * 3 + 1  # one sink batch at 10,000 lines/s
    # 100 characters a line: 500 of them fit the frame's 128 KiB (chunk_chars) with the JSON.
    await store_and_broadcast(deployment, ["x" * 100] * count)
    sizes = []
    for _ in range(4):
        frame = await socket.receive_json_from(timeout=10)
        sizes.append(len(frame["lines"]))
    assert sizes == [DeploymentLogConsumer.chunk_size] * 3 + [1]


async def test_it_starts_with_the_current_status_so_a_reconnect_misses_no_change(
    cast, deployment, ws_open
):
    await sync_to_async(type(deployment).objects.filter(pk=deployment.pk).update)(status="failed")
    socket, _ = await ws_open(cast.viewer, f"/ws/deployments/{deployment.pk}/")
    assert socket.initial_status["status"] == "failed"


async def test_it_replays_the_recorded_step_statuses_on_connect(cast, deployment, ws_open):
    from deployments.models import DeploymentStep

    await sync_to_async(DeploymentStep.objects.create)(
        deployment=deployment, name="prepare", server="web1", order=1, status="succeeded")
    socket, _ = await ws_open(cast.viewer, f"/ws/deployments/{deployment.pk}/")
    frame = await socket.receive_json_from(timeout=5)
    shown = (frame["type"], frame["step"], frame["status"])
    assert shown == ("step.status", "prepare", "succeeded")


async def test_it_sends_each_line_as_the_segments_of_the_one_ansi_parser(cast, deployment, ws_open):
    await sync_to_async(store_lines)(deployment, ["\x1b[1;31mERROR\x1b[0m done <b>"])
    socket, _ = await ws_open(cast.developer, f"/ws/deployments/{deployment.pk}/")
    await store_and_broadcast(deployment, ["plain", "\x1b[2K\x1b[92mok\x1b[39m"], stream="err")
    stored, plain, live = await receive_lines(socket, 3)

    assert stored["segments"] == [["ansi-bold ansi-red", "ERROR"], ["", " done <b>"]]
    assert plain["segments"] == [["", "plain"]]
    assert live["segments"] == [["ansi-bright-green", "ok"]]
    assert (live["seq"], live["stream"], live["server"]) == (3, "err", "web1")
    assert "text" not in live  # one renderer: the page gets segments, never raw escapes


async def test_it_replays_a_big_log_of_long_lines_in_frames_under_the_size_limit(
    cast, deployment, ws_open
):
    count = 300  # 300 lines of 16 KiB: about 5 MiB, five times daphne's frame limit
    await sync_to_async(store_lines)(deployment, [f"{n} " + "y" * 16_000 for n in range(count)])
    socket, _ = await ws_open(cast.viewer, f"/ws/deployments/{deployment.pk}/?after=0")
    frames = []
    while sum(len(frame["lines"]) for frame in frames) < count:
        frame = await socket.receive_json_from(timeout=10)
        if frame["type"] == "log.batch":
            frames.append(frame)
    assert [ln["seq"] for frame in frames for ln in frame["lines"]] == list(range(1, count + 1))
    assert max(len(json.dumps(frame)) for frame in frames) < 256 * 1024


async def test_it_reads_back_what_a_step_status_says_is_stored_but_it_never_got(
    cast, deployment, ws_open
):
    # The sink broadcast these before this socket joined and stored them after it read.
    socket, _ = await ws_open(cast.viewer, f"/ws/deployments/{deployment.pk}/")
    await sync_to_async(store_lines)(deployment, ["missed", "too"])
    await get_channel_layer().group_send(deployment_group(deployment.pk), StepStatusEvent(
        type="step.status", deployment_id=deployment.pk, step="install", server="web1",
        status="succeeded", exit_code=0, duration="1s", last_seq=2,
    ))
    lines = await receive_lines(socket, 2)
    status = await socket.receive_json_from(timeout=5)
    assert [line_text(line) for line in lines] == ["missed", "too"]
    assert (status["type"], status["step"]) == ("step.status", "install")


async def test_it_reads_back_the_last_stored_lines_before_the_final_status(
    cast, deployment, ws_open
):
    from deployments.events import send_status

    socket, _ = await ws_open(cast.viewer, f"/ws/deployments/{deployment.pk}/")
    await sync_to_async(store_lines)(deployment, ["the last batch, broadcast before we joined"])
    deployment.status = "succeeded"
    await send_status(deployment)
    [line] = await receive_lines(socket, 1)
    status = await socket.receive_json_from(timeout=5)
    assert line["seq"] == 1 and status["type"] == "deployment.status"


async def test_it_waits_for_a_missed_batch_that_is_still_being_stored(cast, deployment, ws_open):
    # The sink stores a batch just behind its broadcast: the gap may not be in the database yet.
    socket, _ = await ws_open(cast.viewer, f"/ws/deployments/{deployment.pk}/")
    await get_channel_layer().group_send(deployment_group(deployment.pk), log_batch_event(
        deployment.pk, [(3, "web1", "out", "third", time.time())]
    ))
    await asyncio.sleep(0.1)
    await sync_to_async(store_lines)(deployment, ["first", "second"])  # their COPY lands
    lines = await receive_lines(socket, 3)
    assert [(line["seq"], line_text(line)) for line in lines] == [
        (1, "first"), (2, "second"), (3, "third"),
    ]


async def test_it_opens_a_bundle_into_the_frames_each_event_would_have_made(
    cast, deployment, ws_open
):
    from deployments.events import bundle

    socket, _ = await ws_open(cast.viewer, f"/ws/deployments/{deployment.pk}/")
    rows = await sync_to_async(store_lines)(deployment, ["built"])
    step = StepStatusEvent(type="step.status", deployment_id=deployment.pk, step="install",
                           server="web1", status="succeeded", exit_code=0, duration="1s",
                           last_seq=1)
    [message] = bundle(deployment.pk, [
        log_batch_event(deployment.pk, [(1, "web1", "out", rows[0]["text"], time.time())]),
        step,
    ])
    await get_channel_layer().group_send(deployment_group(deployment.pk), message)
    lines = await receive_lines(socket, 1)
    status = await socket.receive_json_from(timeout=5)
    assert [line_text(line) for line in lines] == ["built"]
    assert (status["type"], status["step"], status["status"]) == ("step.status", "install",
                                                                  "succeeded")
