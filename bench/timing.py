"""Timing one pipeline run: a Sink that records when each step ran, and timed deploy/rollback."""

from __future__ import annotations

import time
from dataclasses import dataclass

from deployments.pipeline.context import DeployContext
from deployments.pipeline.runner import run_deploy, run_rollback

SWITCH_STEPS = ("activate", "activate_release")


class TimingSink:
    """Records each step's wall-clock span over all servers, and the switch window.

    The switch window runs from the first server's switch to the last server's reload: the
    moments when answers may legitimately come from either release.
    """

    def __init__(self) -> None:
        self.spans: dict[str, list[float]] = {}
        self._started: dict[tuple[str, str], float] = {}

    async def step_started(self, step: str, server: str) -> None:
        self._started[(step, server)] = time.monotonic()

    async def step_finished(self, step, server, status, exit_code, error="") -> None:
        end = time.monotonic()
        start = self._started.get((step, server), end)
        span = self.spans.setdefault(step, [start, end])
        span[0], span[1] = min(span[0], start), max(span[1], end)

    async def line(self, server, stream, text, ts) -> None:
        pass

    async def commit_resolved(self, sha, message, author, mirror=None) -> None:
        pass

    async def lease_lost(self) -> str:
        return ""

    async def cancel_requested(self) -> bool:
        return False

    @property
    def durations(self) -> dict[str, float]:
        return {step: end - start for step, (start, end) in self.spans.items()}

    def phases(self) -> dict[str, float]:
        """Wall-clock seconds of the three phases of a run: preparation (every step before the
        first switch, all servers in parallel), the switch (server by server) and the rest."""
        switch = next((self.spans[s] for s in SWITCH_STEPS if s in self.spans), None)
        if switch is None or not self.spans:
            return {}
        first = min(start for start, _ in self.spans.values())
        last = max(end for _, end in self.spans.values())
        return {
            "prepare": switch[0] - first,
            "switch": switch[1] - switch[0],
            "finish": last - switch[1],
        }

    @property
    def switch_window(self) -> tuple[float, float] | None:
        switch = next((self.spans[s] for s in SWITCH_STEPS if s in self.spans), None)
        if switch is None:
            return None
        return switch[0], self.spans.get("reload", switch)[1]


@dataclass
class Run:
    seconds: float
    sink: TimingSink
    status: str
    error: str = ""


async def timed(ctx: DeployContext) -> Run:
    """Run the pipeline for `ctx` (deploy or rollback, by ctx.kind) and time it."""
    sink = TimingSink()
    started = time.monotonic()
    run = run_rollback if ctx.kind == "rollback" else run_deploy
    result = await run(ctx, sink)
    return Run(time.monotonic() - started, sink, result.status, result.error)
