"""Drive the real DeploymentSink from synchronous browser tests (numbering, persist, broadcast)."""

from __future__ import annotations

import time

from asgiref.sync import async_to_sync

from deployments.sink import DeploymentSink


class SinkDriver:
    """One sink for one deployment, as the worker holds it for a whole run."""

    def __init__(self, deployment_id: int) -> None:
        self.sink = DeploymentSink(deployment_id=deployment_id)

    def lines(self, *texts: str, stream: str = "out", server: str = "web1") -> None:
        """Write `texts` as lines and flush: persisted, then broadcast."""

        async def write() -> None:
            for text in texts:
                await self.sink.line(server, stream, text, time.time())
            await self.sink.flush()

        async_to_sync(write)()

    def step_started(self, step: str, server: str = "web1") -> None:
        self._then_flush(self.sink.step_started(step, server))

    def step_finished(self, step: str, status: str = "succeeded", server: str = "web1",
                      exit_code: int | None = 0) -> None:
        self._then_flush(self.sink.step_finished(step, server, status, exit_code))

    def _then_flush(self, coroutine) -> None:
        # Each call runs on an event loop of its own, which ends with it: nothing the sink
        # queued (a step status waits briefly for company) may be left behind on it.
        async def run() -> None:
            await coroutine
            await self.sink.flush()

        async_to_sync(run)()
