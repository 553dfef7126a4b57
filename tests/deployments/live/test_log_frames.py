"""A flood of small log batches reaches the browser as a few coalesced frames, every seq once."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from deployments.consumers import DeploymentLogConsumer
from deployments.events import send_status
from tests.fixtures.live import broadcast_lines, store_lines

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def wide_frame_window(monkeypatch):
    """A window wide enough that sending the batches surely fits in one, on a loaded machine
    too: these tests pin the coalescing, not how short its window is."""
    monkeypatch.setattr(DeploymentLogConsumer, "frame_interval", 0.5)

BATCHES, PER_BATCH = 100, 5


async def receive_frames(socket, lines: int) -> list[list[dict]]:
    frames: list[list[dict]] = []
    while sum(map(len, frames)) < lines:
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == "log.batch":
            frames.append(frame["lines"])
    return frames


async def test_a_flood_of_batches_becomes_a_few_frames(cast, deployment, ws_open):
    socket, _ = await ws_open(cast.viewer, f"/ws/deployments/{deployment.pk}/")
    texts = [f"line {n}" for n in range(BATCHES * PER_BATCH)]
    stored = await sync_to_async(store_lines)(deployment, texts)
    for start in range(0, len(stored), PER_BATCH):
        await broadcast_lines(deployment.pk, stored[start : start + PER_BATCH])
    frames = await receive_frames(socket, len(stored))
    seqs = [line["seq"] for frame in frames for line in frame]
    assert seqs == list(range(1, len(stored) + 1))  # each once, in order
    assert len(frames) <= BATCHES // 5


async def test_a_line_after_a_quiet_moment_goes_out_at_once(cast, deployment, ws_open):
    socket, _ = await ws_open(cast.viewer, f"/ws/deployments/{deployment.pk}/")
    [line] = await sync_to_async(store_lines)(deployment, ["hello"])
    await broadcast_lines(deployment.pk, [line])
    frame = await socket.receive_json_from(timeout=0.5)
    assert [ln["seq"] for ln in frame["lines"]] == [1]


async def test_queued_lines_arrive_before_the_status_change_after_them(cast, deployment,
                                                                        ws_open):
    socket, _ = await ws_open(cast.viewer, f"/ws/deployments/{deployment.pk}/")
    stored = await sync_to_async(store_lines)(deployment, ["a", "b", "c"])
    for line in stored:  # the second and third wait for the next frame slot
        await broadcast_lines(deployment.pk, [line])
    deployment.status = "succeeded"
    await send_status(deployment)
    frames = [await socket.receive_json_from(timeout=5) for _ in range(3)]
    assert [frame["type"] for frame in frames] == ["log.batch", "log.batch", "deployment.status"]
