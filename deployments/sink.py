"""DeploymentSink: where the pipeline's output becomes numbered, redacted, stored, broadcast lines.

Order of duties for every line: redact secret values, let the log's byte cap keep it or hold
it for the step's tail (deployments/log_cap.py), number what is kept (`seq`, gapless per
deployment), buffer; then in batches (every FLUSH_INTERVAL, every FLUSH_LINES lines and at step
boundaries) broadcast the batch, encoded once for every browser (deployments/events.py), and
store it behind the broadcast with one COPY (bulk INSERT), in seq order: the database's pace
never holds up the live log. Broadcasts (batches and step statuses) leave in order from one
sender task, so a step does not wait for Redis; a step status names the last line broadcast
before it (`last_seq`), and the run's status comes after every line is stored; a socket
that missed a batch (it joined late, Redis dropped it) reads it back from the database when it
notices the gap, waiting briefly for the COPY behind it (deployments/consumers.py). A browser that
reconnects asks for `seq > last` the same way.

The same background loop keeps the deployment alive for the watchdog (heartbeat) and
watches the row for a cancel request, setting the runner's cancel Event within ~1 s.

Every write survives a lost database connection (deployments/dbretry.py: close, back off,
retry for up to a minute) while the pipeline runs on: lines wait in memory, in order, and a
batch whose COPY may have committed unseen is written again without the seqs already stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from deployments import events, sink_sql
from deployments.dbretry import DatabaseRetry
from deployments.log_cap import LogCap
from deployments.models import Deployment, DeploymentStep, LogLine, Status, format_duration
from deployments.pipeline.context import MirrorConnection
from deployments.redaction import Redactor

logger = logging.getLogger(__name__)

MAX_LINE_CHARS = 16_384

Row = events.Row  # seq, server, stream, text, unix ts


class DeploymentSink:
    """The contract's Sink for one deployment. Use `start()` before the run, `close()` after."""

    # A line waits at most this long before it is broadcast: the live log's latency budget
    # (p95 <= 40 ms at 1,000 lines/s) minus the hops through Redis and daphne. The COPY runs
    # behind the broadcast, off this path.
    FLUSH_INTERVAL = 0.02
    FLUSH_LINES = 500
    MAX_PENDING = 20_000
    MAX_OUTBOX = 200  # events queued for Redis before a flush waits for them
    POLL_INTERVAL = 0.5
    HEARTBEAT_INTERVAL = 2.0

    def __init__(self, *, deployment_id: int, secrets=(), max_log_bytes: int | None = None) -> None:
        self.deployment_id = deployment_id
        self._cap = LogCap(max_log_bytes or settings.DEPLOY_LOG_MAX_BYTES)
        self.group = events.deployment_group(deployment_id)
        # Which values are secret is decided by deployments/context_builder.py; the Redactor
        # also catches their encoded forms (deployments/redaction.py).
        self.redact = Redactor(secrets)
        self._seq = 0
        self._pending: list[Row] = []
        self._flush_lock = asyncio.Lock()
        self._unstored: list[Row] = []  # broadcast, not stored yet (in seq order)
        self._store_lock = asyncio.Lock()  # one COPY at a time keeps the stored seqs in order
        self._storer: asyncio.Task | None = None
        self._queued_seq = 0  # every line up to this seq is queued for broadcast
        self._outbox: list[dict] = []  # events to broadcast, in order (see _emit)
        self._sender: asyncio.Task | None = None
        self._hurry = False  # send what is queued without waiting for company
        self._waiting: asyncio.Future | None = None
        self._open_steps: dict[tuple[str, str], int] = {}
        self._step_started: dict[tuple[str, str], datetime] = {}
        self._order = 0
        self._last_heartbeat = 0.0
        self._background: asyncio.Task | None = None
        self._flusher: asyncio.Task | None = None
        self._db = DatabaseRetry(f"deployment {deployment_id}: log sink")
        # Set while a line write may have committed without our knowing (see _store).
        self._maybe_stored = False
        # Set when the last step row write saw the lease held (see lease_lost).
        self._lease_held = False

    # -- the contract --------------------------------------------------------------------

    async def line(self, server: str, stream: str, text: str, ts: float) -> None:
        """Redact one line and let the log's byte cap decide what to store now (deployments/
        log_cap.py); number and buffer that. A full buffer is flushed without waiting for it."""
        entry = (server[:100], stream[:4], self.redact(_storable(text)), ts)
        await self._append(self._cap.admit(entry))

    async def _append(self, entries: list) -> None:
        pending = self._pending
        for server, stream, text, ts in entries:
            self._seq += 1
            pending.append((self._seq, server, stream, text, ts))
        if len(pending) < self.FLUSH_LINES:
            return  # the common case, kept cheap: it runs for every line
        if len(pending) + len(self._unstored) >= self.MAX_PENDING:
            await self.flush()  # the database is far behind: slow the producer down
        elif self._flusher_idle():
            # Broadcast in the background so a fast producer is not stalled by the send;
            # the flush lock keeps batches in seq order.
            self._flusher = asyncio.create_task(self._broadcast_pending())

    async def step_started(self, step: str, server: str) -> None:
        """Record a running DeploymentStep before the step runs (the journal says what a
        worker that dies now was doing); its status follows the previous step's lines."""
        await self._append(self._cap.release(server[:100]))
        await self._broadcast_pending()
        self._order += 1
        pk = await self._db.arun(_StepRecord(
            self.deployment_id, self._order, name=step[:100], server=server[:100],
            status="running", started_at=(started := timezone.now()),
        ))
        self._open_steps[(step, server)] = pk
        self._step_started[(step, server)] = started
        self._emit_step(step, server, "running", None)

    async def step_finished(
        self, step: str, server: str, status: str, exit_code: int | None, error: str = ""
    ) -> None:
        """Close the step's row (or record it whole, for a step that never started)."""
        await self._append(self._cap.release(server[:100]))
        await self._broadcast_pending()
        now, error = timezone.now(), self.redact(error or "")
        pk = self._open_steps.pop((step, server), None)
        started = self._step_started.pop((step, server), now)
        if pk is None:
            self._order += 1
            await self._db.arun(_StepRecord(
                self.deployment_id, self._order, name=step[:100],
                server=server[:100], status=status, started_at=now, finished_at=now,
                exit_code=exit_code, error=error,
            ))
        else:
            self._lease_held = await self._db.arun(
                sink_sql.close_step, self.deployment_id, pk,
                status=status, finished_at=now, exit_code=exit_code, error=error,
            )
        self._emit_step(step, server, status, exit_code, format_duration(now - started))

    async def commit_resolved(
        self, sha: str, message: str, author: str, mirror: MirrorConnection | None = None
    ) -> None:
        """Store the exact commit being deployed, as soon as the pipeline knows it."""
        await self._db.arun(
            Deployment.objects.filter(pk=self.deployment_id).update,
            commit_sha=sha[:64], commit_message=self.redact(message), commit_author=author[:254],
        )

    async def lease_lost(self) -> str:
        """Why this deployment may no longer change anything: it is no longer running (the
        watchdog declared it lost) or the site's epoch moved past its own.

        The runner asks right after the previous step's row was closed; that UPDATE checked
        the lease in the same statement (_close_step), so its answer is used once instead of
        a SELECT per step. The servers' locks fence every mutating command regardless."""
        if self._lease_held:
            self._lease_held = False
            return ""
        status, epoch, site_epoch = await self._db.arun(
            Deployment.objects.filter(pk=self.deployment_id)
            .values_list("status", "epoch", "site__deploy_epoch").get
        )
        if status != Status.RUNNING:
            return f"the deployment is no longer running here (it is {status})"
        if epoch != site_epoch:
            return f"the site was taken over (epoch {site_epoch}, this deployment has {epoch})"
        return ""

    # -- batching ------------------------------------------------------------------------

    async def flush(self) -> None:
        """Broadcast the buffered lines and every queued event; return once every line is
        stored and every event sent."""
        await self._broadcast_pending()
        await self._store_unstored()
        await self._sent()

    async def _broadcast_pending(self) -> None:
        """Queue the buffered lines for broadcast, then have them stored behind it."""
        async with self._flush_lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            self._emit(events.log_batch_event(self.deployment_id, batch))
            self._queued_seq = batch[-1][0]
            self._unstored.extend(batch)
            if self._storer is None or self._storer.done():
                self._storer = asyncio.create_task(self._store_in_background())
            if len(self._outbox) >= self.MAX_OUTBOX:
                await self._sent()  # Redis is far behind: slow the producer down

    # -- broadcasting ----------------------------------------------------------------------

    def _emit(self, event: dict, *, now: bool = True) -> None:
        """Queue `event` for the group; one sender task sends the queue in order. The step
        that follows does not wait for Redis: two awaited sends a step were about a third
        of a one-host deploy's time in the worker (docs/benchmarks.md, "The Deploy button").

        Lines go at once (`now`); a step status waits up to FLUSH_INTERVAL for company, so
        the statuses of short steps and the lines between them leave as one message
        (events.bundle)."""
        self._outbox.append(event)
        if now:
            self._send_now()
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_outbox())

    def _send_now(self) -> None:
        self._hurry = True
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_result(None)

    async def _send_outbox(self) -> None:
        while self._outbox:
            if not self._hurry:
                # A future of this loop, not an Event kept on the sink: nothing outlives
                # the wait (tests drive one sink from several loops, tests/browser/sinks.py).
                self._waiting = asyncio.get_running_loop().create_future()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.FLUSH_INTERVAL):
                        await self._waiting
                self._waiting = None
            self._hurry = False
            queued, self._outbox = self._outbox, []
            for message in events.bundle(self.deployment_id, queued):
                await events.send(self.group, message)

    async def _sent(self) -> None:
        """Return once every queued event went to the channel layer."""
        self._send_now()
        while self._sender is not None and not self._sender.done():
            await asyncio.gather(self._sender, return_exceptions=True)

    async def _store_unstored(self) -> None:
        """Store the broadcast lines in seq order, all that waited in one COPY (so a slow
        database gets fewer, larger writes). Lines stay queued until stored."""
        async with self._store_lock:
            while self._unstored:
                batch = self._unstored[:]
                await self._db.arun(self._store, batch)
                del self._unstored[: len(batch)]

    async def _store_in_background(self) -> None:
        try:
            await self._store_unstored()
        except Exception:
            # The lines stay queued: the next flush writes them (or raises to the pipeline).
            logger.exception("deployment %s: storing log lines failed", self.deployment_id)

    def _store(self, batch: list[Row]) -> None:
        """One attempt at storing `batch` (in the database thread). After a failed attempt the
        connection may have died between COPY's commit and its answer: skip what is there."""
        if self._maybe_stored:
            batch = unstored(self.deployment_id, batch)
        self._maybe_stored = True
        store_lines(self.deployment_id, batch)
        self._maybe_stored = False

    async def cancel_requested(self) -> bool:
        """Whether the row asks this run to stop (read now, not at the next poll)."""
        return await self._should_stop()

    async def start(self, cancel: asyncio.Event) -> None:
        """Start the background loop: periodic broadcast, heartbeat, cancel polling."""
        self._background = asyncio.create_task(self._run_background(cancel))

    async def close(self) -> None:
        """Stop the background loop and persist whatever is left."""
        if self._background is not None:
            self._background.cancel()
            await asyncio.gather(self._background, return_exceptions=True)
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self._storer is not None:
            await asyncio.gather(self._storer, return_exceptions=True)
        await self._append(self._cap.release())
        await self.flush()

    def _flusher_idle(self) -> bool:
        return self._flusher is None or self._flusher.done()

    async def _run_background(self, cancel: asyncio.Event) -> None:
        # Two loops: the database calls of the watch wait behind a slow COPY (one database
        # thread), and must not hold up the broadcasts meanwhile.
        await asyncio.gather(self._broadcast_loop(), self._watch_loop(cancel))

    async def _broadcast_loop(self) -> None:
        while True:
            await asyncio.sleep(self.FLUSH_INTERVAL)
            try:
                await self._broadcast_pending()
            except Exception:
                logger.exception("deployment %s: sink broadcast failed", self.deployment_id)

    async def _watch_loop(self, cancel: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                if await self._should_stop():
                    cancel.set()
                await self._heartbeat(loop.time())
            except Exception:
                logger.exception("deployment %s: sink background work failed", self.deployment_id)
            await asyncio.sleep(self.POLL_INTERVAL)

    async def _should_stop(self) -> bool:
        """True once someone asked to cancel, or the row is no longer running (watchdog)."""
        return await self._db.arun(sink_sql.should_stop, self.deployment_id)

    async def _heartbeat(self, now: float) -> None:
        if now - self._last_heartbeat < self.HEARTBEAT_INTERVAL:
            return
        self._last_heartbeat = now
        # The time of this attempt, not of the first one: it says the worker is alive now.
        await self._db.arun(lambda: sink_sql.beat(self.deployment_id, timezone.now()))

    def _emit_step(
        self, step: str, server: str, status: str, exit_code: int | None, duration: str = ""
    ) -> None:
        # The duration as the page renders it, so the live table and a reload agree. Every
        # line before the status was queued before it; `last_seq` names the last of them
        # (a socket that missed them reads them back, waiting for their COPY).
        self._emit(events.StepStatusEvent(
            type="step.status", deployment_id=self.deployment_id, step=step, server=server,
            status=status, exit_code=exit_code, duration=duration, last_seq=self._queued_seq,
        ), now=False)


def _storable(text: str) -> str:
    """PostgreSQL text cannot hold NUL or lone surrogates; very long lines are cut."""
    if "\0" in text:
        text = text.replace("\0", "\ufffd")
    if not text.isascii():  # ASCII (most lines) has no surrogate to replace
        text = text.encode("utf-8", "replace").decode("utf-8")
    if len(text) > MAX_LINE_CHARS:
        text = text[:MAX_LINE_CHARS] + " …(line truncated)"
    return text


class _StepRecord:
    """Creates the deployment's step number `order`; called again by the retry (deployments/
    dbretry.py) when the connection broke. The first attempt is one INSERT: each of the
    twenty steps of a deploy used to pay a SELECT and a COMMIT more (get_or_create), a large
    share of the worker's queries per deployment. Only a retry, whose first attempt may have
    committed unseen, looks for the row first."""

    def __init__(self, deployment_id: int, order: int, **fields) -> None:
        self.deployment_id, self.order, self.fields = deployment_id, order, fields
        self.tried = False

    def __call__(self) -> int:
        if self.tried:
            return _record_step(self.deployment_id, self.order, **self.fields)
        self.tried = True
        return sink_sql.insert_step(self.deployment_id, self.order, **self.fields)


def _record_step(deployment_id: int, order: int, **fields) -> int:
    """Create the deployment's step number `order` once (a retry finds the row it created)."""
    step, _ = DeploymentStep.objects.get_or_create(
        deployment_id=deployment_id, order=order, defaults=fields
    )
    return step.pk


def unstored(deployment_id: int, batch: list[Row]) -> list[Row]:
    """The rows of `batch` whose seq is not in the database yet."""
    stored = set(
        LogLine.objects.filter(
            deployment_id=deployment_id, seq__gte=batch[0][0], seq__lte=batch[-1][0]
        ).values_list("seq", flat=True)
    )
    return [row for row in batch if row[0] not in stored]


def store_lines(deployment_id: int, batch: list[Row]) -> None:
    """Insert a batch of lines in one statement.

    On PostgreSQL this is COPY, its text built whole and written at once: building a model
    instance per line and `bulk_create` cost ~200 µs a line here (under 5,000 lines/s), and
    psycopg's `write_row` per line let the database thread give up the GIL again and again
    to the busy event loop (1,000 lines took ~150 ms on a loaded machine, and the next live
    batch waits for this COPY). Other databases (the embedded SQLite default) use
    `bulk_create`.
    """
    if not batch:
        return
    if connection.vendor != "postgresql":
        LogLine.objects.bulk_create(
            LogLine(deployment_id=deployment_id, seq=seq, server=server, stream=stream,
                    text=text, ts=datetime.fromtimestamp(ts, UTC))
            for seq, server, stream, text, ts in batch
        )
        return
    table = LogLine._meta.db_table
    # wrap_database_errors: COPY goes to psycopg's own cursor, whose errors Django would not
    # translate otherwise (the retry knows Django's OperationalError, not psycopg's).
    with transaction.atomic(), connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(
            f"COPY {table} (deployment_id, seq, server, stream, text, ts) FROM STDIN"  # noqa: S608
        ) as copy:
            copy.write(copy_text(deployment_id, batch))


def copy_text(deployment_id: int, batch: list[Row]) -> str:
    """`batch` in COPY's text format: one line a row, tab-separated, escaped."""
    return "".join(
        f"{deployment_id}\t{seq}\t{_copy_field(server)}\t{_copy_field(stream)}\t"
        f"{_copy_field(text)}\t{datetime.fromtimestamp(ts, UTC).isoformat()}\n"
        for seq, server, stream, text, ts in batch
    )


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _copy_field(value: str) -> str:
    # Backslash, tab and line breaks are COPY's syntax; nothing else needs escaping (NUL
    # never reaches here: _storable replaced it).
    if _COPY_SPECIAL.search(value) is None:
        return value
    return _COPY_SPECIAL.sub(lambda match: _COPY_ESCAPES[match.group()], value)
