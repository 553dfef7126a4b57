"""The live log socket: `ws/deployments/<id>/?after=<seq>`.

Join the group first, then replay stored lines after `seq`, then forward live batches; any
seq already sent is dropped, so nothing arrives twice. A batch broadcast before we joined but
stored after our read is the one thing the group cannot give us: the next batch's gap, or the
next step status (its `last_seq` names the last line broadcast before it), makes us read
it back from the database (as for a batch Redis dropped), waiting briefly for the sink's
COPY, which runs just behind its broadcast; the final status reads whatever is left.

Live lines arrive encoded once by the sink (deployments/events.py); a frame is their join.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from deployments import selectors
from deployments.events import (
    StepStatusEvent,
    deployment_group,
    encode_line,
    log_frame,
    status_event,
)
from deployments.models import Deployment
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
                        duration=step.duration_text, last_seq=0)
        for step in deployment.steps.order_by("order")
    ]
    return [status_event(deployment), *steps]


def stored_lines(deployment_id: int, *, after: int, limit: int,
                 before: int | None = None) -> list[tuple[int, str]]:
    """Stored lines with `after` < seq (< `before`), oldest first: (seq, the line encoded)."""
    lines = selectors.log_lines(deployment_id=deployment_id, after=after, before=before)
    return [
        (line.seq, encode_line(line.seq, line.server, line.stream, line.text, line.ts.timestamp()))
        for line in lines[:limit]
    ]


def frame_chunks(lines: list[str], max_lines: int, max_chars: int) -> Iterator[list[str]]:
    """Encoded `lines` in order, cut into chunks of at most `max_lines` lines and, past its
    first line, at most `max_chars` characters (one frame each; ASCII, so also bytes)."""
    start, chars = 0, 0
    for index, line in enumerate(lines):
        if index > start and (index - start == max_lines or chars + len(line) > max_chars):
            yield lines[start:index]
            start, chars = index, 0
        chars += len(line) + 1
    if start < len(lines):
        yield lines[start:]


def after_seq(query_string: bytes) -> int:
    """The `after` query parameter; anything missing or malformed means "from the start"."""
    value = parse_qs(query_string.decode("latin-1")).get("after", ["0"])[0]
    return max(int(value), 0) if value.isdigit() else 0


# How long a socket waits for a missed batch's COPY, in steps (about 2.5 s in all; a database
# slower than that is down, and the next batch or status looks again).
GAP_PAUSES = (0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 0.9)


class DeploymentLogConsumer(MemberSocket):
    """Stored then live log lines of one deployment, each seq exactly once, in order.

    Live lines are coalesced: at most one frame (of up to chunk_size lines) per frame_interval,
    so a flood of small batches from the sink does not become a flood of frames; a line that
    comes after a quiet moment still goes out at once.
    """

    chunk_size = 500
    # Lines are up to 16 KiB (sink.MAX_LINE_CHARS): 500 of them would pass the frame limit.
    chunk_chars = 128 * 1024
    # The sink sends a batch at most every 20 ms in steady flow (sink.FLUSH_INTERVAL): a wider
    # window here only delayed lines (it was 100 ms: p95 123 ms at 1,000 lines/s).
    frame_interval = 0.02

    async def open(self) -> bool:
        deployment_id = self.scope["url_route"]["kwargs"]["deployment_id"]
        deployment = await database_sync_to_async(viewable_deployment)(
            self.scope["user"], deployment_id
        )
        if deployment is None:
            return False
        self.deployment_id = deployment.pk
        self.last_seq = after_seq(self.scope.get("query_string", b""))
        self.outbox: list[str] = []  # encoded lines, up to last_seq
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
            rows = await database_sync_to_async(stored_lines)(
                self.deployment_id, after=self.last_seq, limit=self.chunk_size, before=before
            )
            if rows:
                await self.send_lines([line for _, line in rows])
                self.last_seq = max(self.last_seq, rows[-1][0])  # never back over the outbox
            if len(rows) < self.chunk_size:
                return

    async def send_lines(self, lines: list[str]) -> None:
        # At 10,000 lines/s one sink batch (or a replay of a big log) can pass daphne's 1 MiB
        # frame limit, which would end the socket: send at most chunk_size lines and
        # chunk_chars characters (ASCII JSON: bytes too) per frame, past a first long line.
        for chunk in frame_chunks(lines, self.chunk_size, self.chunk_chars):
            await self.send(text_data=log_frame(chunk))

    async def log_batch(self, event: dict) -> None:
        first, lines = event["first_seq"], event["lines"]
        if first + len(lines) - 1 <= self.last_seq:
            return  # replayed from the database already
        if first > self.last_seq + 1:
            # A batch never reached us (we joined after it, or Redis dropped it): read the gap
            # back, after what is already queued, so the browser still gets every seq in order.
            await self.send_outbox()
            await self.read_gap(before=first)
        if first <= self.last_seq:
            lines = lines[self.last_seq + 1 - first:]
        self.outbox.extend(lines)
        self.last_seq = first + len(event["lines"]) - 1
        self.schedule_outbox()

    async def read_gap(self, before: int) -> None:
        """Send the stored lines up to `before`, looking again while the sink's COPY of them
        (just behind their broadcast) has not landed yet."""
        for pause in GAP_PAUSES:
            await asyncio.sleep(pause)
            await self.send_stored(before=before)
            if self.last_seq >= before - 1 or self.revoked:
                return

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
        if event.get("last_seq", 0) > self.last_seq:
            # Broadcast before this status but missed here: stored just behind it.
            await self.read_gap(before=event["last_seq"] + 1)
        await self.send_json(event)

    async def deployment_events(self, event: dict) -> None:
        """Several batches and step statuses in one message (events.bundle), in order."""
        for bundled in event["events"]:
            handler = self.BUNDLED.get(bundled["type"])
            if handler is not None:
                await handler(self, bundled)

    async def deployment_status(self, event: dict) -> None:
        await self.send_outbox()
        await self.send_stored()  # the sink stored every line before the run's status is sent
        await self.send_json(event)

    # What a `deployment.events` message may carry, and who handles each.
    BUNDLED = {"log.batch": log_batch, "step.status": step_status}
