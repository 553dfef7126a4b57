"""One event loop per process, on a thread of its own, for broadcasts from synchronous code.

Outside an async stack (the Celery worker, management commands) `async_to_sync` starts a new
event loop on a new thread for every call, and the channel layer keeps its Redis connections
per event loop, so every status broadcast also opened (and dropped) a Redis connection: about
2.8 ms of CPU for one status (two group sends), against 0.8 ms on a loop that stays
(docs/benchmarks.md, "Worker cost per deployment"). A worker announces three statuses a deploy.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import TimeoutError as FutureTimeout

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_owner_pid = 0


def run_on_send_loop(send: Callable[..., Awaitable[None]], *args, timeout: float) -> None:
    """Run `send(*args)` on the process's send loop and wait for it (order is kept: a status
    broadcast returns before the caller goes on, as it did through `async_to_sync`).

    From a thread running an event loop it raises RuntimeError, as `async_to_sync` does:
    waiting there would block that loop; such code awaits the coroutine itself."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("run_on_send_loop was called from a running event loop: await instead")
    future = asyncio.run_coroutine_threadsafe(send(*args), _send_loop())
    try:
        future.result(timeout)
    except FutureTimeout:
        future.cancel()
        raise


def _send_loop() -> asyncio.AbstractEventLoop:
    """The loop of this process, started on first use (again in a forked child: a fork copies
    no threads, so the parent's loop would never run there)."""
    global _loop, _owner_pid
    with _lock:
        if _loop is None or _owner_pid != os.getpid():
            _loop = asyncio.new_event_loop()
            _owner_pid = os.getpid()
            threading.Thread(target=_loop.run_forever, name="deploynix-send-loop",
                             daemon=True).start()
        return _loop
