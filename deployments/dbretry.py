"""Database writes that outlive a lost connection: close it, back off, try again (bounded).

A connection a long task holds stays broken after a database restart until someone closes it
(Django's close_old_connections / CONN_HEALTH_CHECKS only act between requests), so every
attempt that fails on the connection closes it in the thread that owns it: the next attempt
reconnects. The write itself must be safe to repeat (an attempt may have committed before its
error was seen); the callers make it so.

One `DatabaseRetry` per writer (a deployment's sink, a task) logs one line when an outage starts
and one when it ends, however many attempts and concurrent writes fall inside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from asgiref.sync import sync_to_async
from django.db import DatabaseError, InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A PostgreSQL restart or failover takes seconds; a minute covers it without hiding a database
# that is really gone (the write then raises, and the deployment ends or the watchdog steps in).
RETRY_SECONDS = 60.0
FIRST_DELAY = 0.05
MAX_DELAY = 1.0

# What a lost, refused or reset connection raises (psycopg and sqlite3, as Django wraps them).
CONNECTION_ERRORS = (OperationalError, InterfaceError)


class DatabaseRetry:
    """Retry writes of one writer (named `label` in the log) across connection losses."""

    def __init__(self, label: str, *, seconds: float = RETRY_SECONDS) -> None:
        self.label = label
        self.seconds = seconds
        self._down_since: float | None = None

    def run(self, write: Callable[..., T], *args, **kwargs) -> T:
        """Call `write(*args, **kwargs)` in this thread until it succeeds or time runs out."""
        delays = _backoff(time.monotonic() + self.seconds)
        while True:
            try:
                result = _attempt(write, *args, **kwargs)
            except CONNECTION_ERRORS as exc:
                time.sleep(self._next_delay(exc, delays))
                continue
            self._up()
            return result

    async def arun(self, write: Callable[..., T], *args, **kwargs) -> T:
        """`run` for async code: each attempt runs in the caller's database thread
        (sync_to_async, thread-sensitive), which is where the broken connection lives."""
        delays = _backoff(time.monotonic() + self.seconds)
        while True:
            try:
                result = await sync_to_async(_attempt)(write, *args, **kwargs)
            except CONNECTION_ERRORS as exc:
                await asyncio.sleep(self._next_delay(exc, delays))
                continue
            self._up()
            return result

    def _next_delay(self, exc: Exception, delays: Iterator[float]) -> float:
        """Note the outage (logged once) and return how long to wait; re-raise when over."""
        if self._down_since is None:
            self._down_since = time.monotonic()
            logger.warning("%s: database connection lost (%s); retrying for up to %.0f s",
                           self.label, _oneline(exc), self.seconds)
        delay = next(delays, None)
        if delay is None:
            # Still down: the outage goes on (no new "lost" line for the writer's next write).
            logger.error("%s: database still unreachable after %.0f s; giving up this write",
                         self.label, self.seconds)
            raise exc
        return delay

    def _up(self) -> None:
        if self._down_since is not None:
            logger.warning("%s: database connection back after %.1f s",
                           self.label, time.monotonic() - self._down_since)
            self._down_since = None


def _attempt(write: Callable[..., T], *args, **kwargs) -> T:
    try:
        return write(*args, **kwargs)
    except CONNECTION_ERRORS:
        close_broken_connection()
        raise


def close_broken_connection() -> None:
    """Drop this thread's connection so the next query opens a fresh one."""
    with contextlib.suppress(DatabaseError):
        connection.close()


def _backoff(deadline: float) -> Iterator[float]:
    """Delays doubling from FIRST_DELAY up to MAX_DELAY; none once `deadline` (monotonic) passed."""
    delay = FIRST_DELAY
    while (left := deadline - time.monotonic()) > 0:
        yield min(delay, left)
        delay = min(delay * 2, MAX_DELAY)


def _oneline(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"
