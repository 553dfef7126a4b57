"""The live log socket: `ws/deployments/<id>/?after=<seq>`.

Join the group first, then replay stored lines after `seq`, then forward live batches: a
batch persisted after our read is broadcast after we joined, so nothing falls in between,
and any seq already sent is dropped, so nothing arrives twice. The sink persists before it
broadcasts, so a gap in the live stream (a dropped batch) is always readable from the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from deployments import selectors
from deployments.ansi import frame_segments
from deployments.events import (
    LiveLinePayload,
    LogLinePayload,
    StepStatusEvent,
    deployment_group,
    status_event,
)
from deployments.models import Deployment, LogLine
from tenancy.consumers import MemberSocket, viewer_membership


def viewable_deployment(user, deployment_id: int) -> Deployment | None:
    """The deployment if `user` may view its organization; None for missing or forbidden alike."""
    deployment = Deployment.objects.select_related("organization").filter(pk=deployment_id).first()
    if deployment is None or viewer_membership(user, deployment.organization.slug) is None:
        return None
    return deployment


def current_state(deployment_id: int) -> list[dict]:
    """The deployment's status, then each recorded step's: what a reconnecting page missed."""
    deployment = Deployment.objects.get(pk=deployment_id)
    steps = [
        StepStatusEvent(type="step.status", deployment_id=deployment_id, step=step.name,
                        server=step.server, status=step.status, exit_code=step.exit_code,
                        duration=step.duration_text)
        for step in deployment.steps.order_by("order")
    ]
    return [status_event(deployment), *steps]


def stored_lines(deployment_id: int, *, after: int, limit: int, before: int | None = None):
    """Stored lines with `after` < seq (< `before`), oldest first, as broadcast payloads."""
    lines = selectors.log_lines(deployment_id=deployment_id, after=after, before=before)
    return [line_payload(line) for line in lines[:limit]]


def line_payload(line: LogLine) -> LogLinePayload:
    return LogLinePayload(
        seq=line.seq, server=line.server, stream=line.stream, text=line.text,
        ts=line.ts.timestamp(),
    )


def live_line(line: LogLinePayload) -> LiveLinePayload:
    """A stored or broadcast line as the browser gets it: its text as coloured segments."""
    return LiveLinePayload(
        seq=line["seq"], server=line["server"], stream=line["stream"],
        segments=frame_segments(line["text"]), ts=line["ts"],
    )


def frame_chunks(lines: list[LogLinePayload], max_lines: int,
                 max_chars: int) -> Iterator[list[LogLinePayload]]:
    """`lines` in order, cut into chunks of at most `max_lines` lines and, past its first line,
    at most `max_chars` characters of text (one frame each)."""
    chunk: list[LogLinePayload] = []
    chars = 0
    for line in lines:
        size = len(line["text"]) + len(line["server"])
        if chunk and (len(chunk) == max_lines or chars + size > max_chars):
            yield chunk
            chunk, chars = [], 0
        chunk.append(line)
        chars += size
    if chunk:
        yield chunk


def after_seq(query_string: bytes) -> int:
    """The `after` query parameter; anything missing or malformed means "from the start"."""
    value = parse_qs(query_string.decode("latin-1")).get("after", ["0"])[0]
    return max(int(value), 0) if value.isdigit() else 0


class DeploymentLogConsumer(MemberSocket):
    """Stored then live log lines of one deployment, each seq exactly once, in order.

    Live lines are coalesced: at most one frame (of up to chunk_size lines) per frame_interval,
    so a flood of small batches from the sink does not become a flood of frames; a line that
    comes after a quiet moment still goes out at once.
    """

    chunk_size = 500
    # Lines are up to 16 KiB (sink.MAX_LINE_CHARS): 500 of them would pass the frame limit.
    chunk_chars = 128 * 1024
    frame_interval = 0.1

    async def open(self) -> bool:
        deployment_id = self.scope["url_route"]["kwargs"]["deployment_id"]
        deployment = await database_sync_to_async(viewable_deployment)(
            self.scope["user"], deployment_id
        )
        if deployment is None:
            return False
        self.deployment_id = deployment.pk
        self.last_seq = after_seq(self.scope.get("query_string", b""))
        self.outbox: list[LogLinePayload] = []
        self.outbox_sender: asyncio.Task | None = None
        self.outbox_lock = asyncio.Lock()  # one sender at a time keeps the frames in seq order
        self.last_frame_at = 0.0
        await self.join(deployment_group(deployment.pk))
        if not await self.accept_member(deployment.organization_id):
            return True  # accepted and closed: too many sockets
        # A status change that happened while this browser was disconnected is not replayed
        # by the group: say where the deployment stands now (read after joining the group).
        for frame in await database_sync_to_async(current_state)(deployment.pk):
            await self.send_json(frame)
        await self.send_stored()
        self.watch_access(deployment.organization.slug)
        return True

    async def send_stored(self, before: int | None = None) -> None:
        """Send stored lines after `last_seq` (up to `before`), in chunks."""
        while not self.revoked:
            lines = await database_sync_to_async(stored_lines)(
                self.deployment_id, after=self.last_seq, limit=self.chunk_size, before=before
            )
            if lines:
                await self.send_lines(lines)
            if len(lines) < self.chunk_size:
                return

    async def send_lines(self, lines: list[LogLinePayload]) -> None:
        # At 10,000 lines/s one sink batch (or a replay of a big log) can pass daphne's 1 MiB
        # frame limit, which would end the socket: send at most chunk_size lines and about
        # chunk_chars characters of text per frame.
        for chunk in frame_chunks(lines, self.chunk_size, self.chunk_chars):
            await self.send_json({"type": "log.batch", "lines": [live_line(ln) for ln in chunk]})
            self.last_seq = max(self.last_seq, chunk[-1]["seq"])  # never back over the outbox

    async def log_batch(self, event: dict) -> None:
        lines = [line for line in event["lines"] if line["seq"] > self.last_seq]
        if lines and lines[0]["seq"] > self.last_seq + 1:
            # A batch never reached us (full channel, Redis hiccup): read the gap back, after
            # what is already queued, so the browser still gets every seq in order.
            await self.send_outbox()
            await self.send_stored(before=lines[0]["seq"])
            lines = [line for line in lines if line["seq"] > self.last_seq]
        if lines:
            self.outbox.extend(lines)
            self.last_seq = lines[-1]["seq"]
            self.schedule_outbox()

    def schedule_outbox(self) -> None:
        """Send the queued lines once frame_interval has passed since the last frame."""
        if self.outbox_sender is None or self.outbox_sender.done():
            loop = asyncio.get_running_loop()
            delay = max(0.0, self.last_frame_at + self.frame_interval - loop.time())
            self.outbox_sender = asyncio.create_task(self.send_outbox(delay))

    async def send_outbox(self, delay: float = 0.0) -> None:
        if delay:
            await asyncio.sleep(delay)
        async with self.outbox_lock:
            lines, self.outbox = self.outbox, []
            if lines:
                self.last_frame_at = asyncio.get_running_loop().time()
                await self.send_lines(lines)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "outbox_sender", None) is not None:
            self.outbox_sender.cancel()
        await super().disconnect(code)

    async def step_status(self, event: dict) -> None:
        await self.send_outbox()  # the lines before a status change arrive before it
        await self.send_json(event)

    async def deployment_status(self, event: dict) -> None:
        await self.send_outbox()
        await self.send_json(event)
