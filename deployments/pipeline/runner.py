"""Runs a pipeline (steps.py) on every server of a deployment, and undoes it on failure.

Order: the steps before the switch step on all servers in parallel (each with its
own connection); the switch, with the steps that go with it (steps.WITH_SWITCH: reload
and the live health check), on the first server alone, then on all the others at once
(a release found unhealthy on the first goes no further; the rest share one short
mixed-version window); then the remaining steps per server. The first failure before
the switch stops everything still running (the remote command is killed); a failure
among the others' switches lets theirs end. Then servers already switched are switched
back and reloaded, and ON_FAILURE runs on every server, best effort. Cancellation and
the overall timeout take the same road. Nothing is left half-switched. A succeeded run
reads each server's inventory at its end (Run._observe) for the reconcile that follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from deployments.pipeline import balancing, rolling, steps
from deployments.pipeline.commit import CommitResolver
from deployments.pipeline.context import DeployContext, PipelineResult, Sink
from deployments.pipeline.inventory import Inventory, read_inventory
from deployments.pipeline.rolling import BalancerError, Rollout
from deployments.pipeline.session import FencedOff, ServerSession, StepFailed
from deployments.pipeline.steps import Step
from servers.ssh import SSHError

logger = logging.getLogger(__name__)

# Undo steps get this long each, however long ctx.step_timeout is: a cleanup must end.
RECOVERY_STEP_TIMEOUT = 120.0
# Tries (a second apart) to put the balancer's config back after a failure: outlasts a short
# outage of the balancer's sshd (see _restore_balancer).
RESTORE_TRIES = 5
# The inventory read at the end of a succeeded run (Run._observe) is one read-only command.
OBSERVE_TIMEOUT = 10.0
# A step failing with one of these is the server's or the site's problem, not a bug.
EXPECTED_FAILURES = (StepFailed, SSHError, ValueError, TimeoutError)


class StepError(Exception):
    """A step failed (or timed out) on a server; `error` includes the last output lines."""

    def __init__(
        self, step: str, server: str, error: str, exit_code: int | None, status: str = "failed"
    ) -> None:
        super().__init__(f"{step} {status} on {server}: {error}")
        self.step, self.server, self.error, self.exit_code = step, server, error, exit_code
        self.status = status  # failed | timed_out | skipped (already live)


class CancelRequested(Exception):
    """Someone asked to cancel, seen right before the switch: stop without going live."""


class LeaseLost(Exception):
    """This deployment no longer holds the site (the watchdog gave it away, or the server's
    lock names a newer one): stop at once and change nothing more."""


async def run_deploy(
    ctx: DeployContext, sink: Sink, cancel: asyncio.Event | None = None
) -> PipelineResult:
    """Deploy ctx.release to every server in ctx.servers (see the module docstring)."""
    return await Run(ctx, sink, steps.configured(ctx, steps.DEPLOY)).execute(cancel)


async def run_rollback(
    ctx: DeployContext, sink: Sink, cancel: asyncio.Event | None = None
) -> PipelineResult:
    """Switch every server to the existing release ctx.release (refused if missing anywhere)."""
    return await Run(ctx, sink, steps.ROLLBACK).execute(cancel)


class Run:
    """One execution of a pipeline over all servers of one deployment."""

    def __init__(self, ctx: DeployContext, sink: Sink, pipeline: Sequence[Step]) -> None:
        self.ctx, self.sink = ctx, sink
        switch_at = next(i for i, step in enumerate(pipeline) if step in steps.SWITCH_STEPS)
        end = switch_at + 1
        while end < len(pipeline) and pipeline[end] in steps.WITH_SWITCH:
            end += 1
        self.before = tuple(pipeline[:switch_at])
        self.switching = tuple(pipeline[switch_at:end])  # the switch and what goes with it
        self.after = tuple(pipeline[end:])
        resolver = CommitResolver(len(ctx.servers))
        self.sessions = [ServerSession(ctx, spec, sink, resolver) for spec in ctx.servers]
        self.rollout = Rollout(ctx.balancer) if ctx.balancer is not None else None
        if self.rollout is not None:
            if ctx.balancer.canary and ctx.kind == "deploy":  # a rollback is urgent: no canary
                self.rollout.canary_server = self.sessions[0].name
            for session in self.sessions:
                session.rollout = self.rollout
        self.on_failure = steps.configured(ctx, steps.ON_FAILURE)
        self.current_step = ""
        self.lease_lost = ""  # why, once this run may no longer change anything
        self.cancel: asyncio.Event | None = None

    async def execute(self, cancel: asyncio.Event | None) -> PipelineResult:
        """Run forward; on failure, cancellation or timeout, undo; always close connections."""
        if not self.sessions:
            return PipelineResult("failed", error="no servers to deploy to")
        self.cancel = cancel
        try:
            try:
                result = await self._forward_or_stop(cancel)
            except asyncio.CancelledError:
                await asyncio.shield(self._undo())  # our caller gave up: still leave servers clean
                raise
            if result.status != "succeeded":
                await self._undo()
                return result
            return dataclasses.replace(result, observed=await self._observe())
        finally:
            for session in self.sessions:
                with contextlib.suppress(Exception):
                    await session.close()
            if self.rollout is not None:
                await self.rollout.close()

    async def _observe(self) -> tuple[tuple[str, Inventory], ...]:
        """What each server says now that the run is over, over its own connection (one
        read-only command): the reconcile after the deployment uses it instead of connecting
        again (deployments/reconcile.py). Best effort: a server that does not answer is left
        out, and the reconcile asks it itself."""
        async def one(session: ServerSession) -> tuple[str, Inventory]:
            async with asyncio.timeout(OBSERVE_TIMEOUT):
                conn = await session.connection()
                return session.name, await read_inventory(conn, self.ctx.deploy_path)

        outcomes = await asyncio.gather(*(one(s) for s in self.sessions), return_exceptions=True)
        return tuple(outcome for outcome in outcomes if isinstance(outcome, tuple))

    async def _forward_or_stop(self, cancel: asyncio.Event | None) -> PipelineResult:
        """Run forward until done, cancelled or out of time (then kill what runs)."""
        forward = asyncio.create_task(self._forward())
        stop = asyncio.create_task(cancel.wait() if cancel else asyncio.Event().wait())
        try:
            await asyncio.wait(
                {forward, stop}, timeout=self.ctx.total_timeout, return_when="FIRST_COMPLETED"
            )
        finally:
            stop.cancel()
            if not forward.done():
                forward.cancel()  # kills the running remote command (servers.ssh run)
            await asyncio.gather(forward, return_exceptions=True)
        return self._outcome(forward, cancel)

    def _outcome(self, forward: asyncio.Task[None], cancel: asyncio.Event | None) -> PipelineResult:
        """The result of a finished, failed, cancelled or timed-out forward run."""
        if not forward.cancelled() and forward.exception() is None:
            return PipelineResult("succeeded", commit=self._commit())
        error = forward.exception() if not forward.cancelled() else None
        if isinstance(error, LeaseLost):
            return self._failed(self.current_step, f"fenced off: {error}")
        if isinstance(error, CancelRequested):
            return PipelineResult(
                "cancelled", self.current_step, "cancelled on request", self._commit()
            )
        if isinstance(error, StepError):
            return PipelineResult(
                error.status, error.step, f"{error.server}: {error.error}", self._commit()
            )
        if error is not None:
            # Not a step failure (e.g. the sink raised): still a failed run that gets undone.
            logger.error("deployment %s: run failed", self.ctx.deployment_id, exc_info=error)
            return self._failed(
                self.current_step, f"internal error: {type(error).__name__}: {error}"
            )
        if cancel is not None and cancel.is_set():
            return PipelineResult(
                "cancelled", self.current_step, "cancelled on request", self._commit()
            )
        return PipelineResult("timed_out", self.current_step,
                              f"timed out after {self.ctx.total_timeout:g}s", self._commit())

    async def _forward(self) -> None:
        await _all_or_none([self._steps(s, self.before) for s in self.sessions])
        await self._refuse_switch_if_cancelled()
        if self.rollout is not None:
            await self._roll(self.rollout)
        else:
            await self._switch_fleet()
        await _all_or_none([self._steps(s, self.after) for s in self.sessions])

    async def _switch_fleet(self) -> None:
        """The first server switches alone: live, reloaded and found healthy before any other
        moves. Then the others switch together, each to the end of its switch steps (none is
        stopped halfway by another's failure, so every `switched` flag is true to its
        server), and the first failure undoes them all. Host by host, ten servers spent
        ten times the switch in a mixed fleet (docs/benchmarks.md, "Several hosts")."""
        first, *others = self.sessions
        await self._steps(first, self.switching)
        await _all_settled([self._steps(s, self.switching) for s in others])

    async def _roll(self, rollout: Rollout) -> None:
        """Through the load balancer, batch by batch: drain, switch + reload + live probe (one
        server at a time), enable; the first batch's first server may be the canary."""
        by_name = {session.name: session for session in self.sessions}
        for names in rolling.batches(list(by_name), rollout.link):
            batch = [by_name[name] for name in names]
            await _all_or_none([self._step(s, balancing.drain) for s in batch])
            for session in batch:
                await self._steps(session, self.switching)
            await _all_or_none([self._step(s, balancing.enable) for s in batch])
            if rollout.canary_server in names:
                await self._step(by_name[rollout.canary_server], balancing.canary)

    async def _steps(self, session: ServerSession, pipeline: Sequence[Step]) -> None:
        for step in pipeline:
            await self._step(session, step)

    async def _step(self, session: ServerSession, step: Step, *, timeout: float = 0) -> None:
        """Run one step on one server, reporting start and end; raise StepError on failure."""
        name, server = step.__name__, session.name
        await self._check_lease()
        self.current_step = name
        session.last_lines.clear()
        await self.sink.step_started(name, server)
        try:
            async with asyncio.timeout(timeout or self.ctx.step_timeout):
                outcome = await step(session)
        except asyncio.CancelledError:
            await self.sink.step_finished(name, server, "cancelled", None, "cancelled")
            raise
        except Exception as exc:
            if not isinstance(exc, EXPECTED_FAILURES):
                # A bug, not a server problem: still end the step (and the deployment) cleanly.
                logger.exception("step %s on %s raised", name, server)
            code, error = _describe(exc, name, timeout or self.ctx.step_timeout, session)
            status = "timed_out" if isinstance(exc, TimeoutError) else (
                "skipped" if isinstance(exc, steps.AlreadyLive) else "failed")
            await self.sink.step_finished(name, server, status, code, error)
            if isinstance(exc, FencedOff):
                self.lease_lost = error
                raise LeaseLost(error) from exc
            if step in steps.BEST_EFFORT:
                return
            raise StepError(name, server, error, code, status) from exc
        status = "skipped" if outcome == steps.SKIPPED else "succeeded"
        await self.sink.step_finished(name, server, status, 0 if status == "succeeded" else None)

    async def _refuse_switch_if_cancelled(self) -> None:
        """Nothing goes live once a cancel was asked for: the sink's watch sets the cancel
        Event only every half second, so a step that ended meanwhile would reach the switch;
        ask the sink directly, right before it."""
        if (self.cancel is not None and self.cancel.is_set()) or await self.sink.cancel_requested():
            raise CancelRequested()

    async def _check_lease(self) -> None:
        """Stop before any step once the database says this run lost the site."""
        if self.lease_lost:
            raise LeaseLost(self.lease_lost)
        reason = await self.sink.lease_lost()
        if reason:
            self.lease_lost = reason
            raise LeaseLost(reason)

    async def _undo(self) -> None:
        """Switch back whatever was switched (last first), then ON_FAILURE everywhere.

        Not once the lease is lost: the site belongs to another deployment (or to reconcile),
        and the server's lock would refuse every change anyway. The load balancer's config is
        put back as generated in every case: no backend stays drained.
        """
        try:
            await self._undo_servers()
        finally:
            if self.rollout is not None and self.rollout.touched:
                await self._restore_balancer(self.rollout)

    async def _undo_servers(self) -> None:
        if self.lease_lost:
            logger.warning("deployment %s: lease lost, not undoing: %s",
                           self.ctx.deployment_id, self.lease_lost)
            return
        for session in reversed([s for s in self.sessions if s.state.switched]):
            for step in steps.SWITCH_BACK:
                await self._recovery_step(session, step)
        undo = [
            self._recovery_steps(session, self.on_failure)
            for session in self.sessions
            if session.connected
        ]
        await asyncio.gather(*undo)

    async def _restore_balancer(self, rollout: Rollout) -> None:
        """Re-enable every backend this deployment drained (a few tries: a lost connection to
        the balancer is opened again), reported as the step `restore_balancer`."""
        name, label, error = "restore_balancer", rollout.link.label, ""
        await self.sink.step_started(name, label)
        for attempt in range(RESTORE_TRIES):
            try:
                async with asyncio.timeout(RECOVERY_STEP_TIMEOUT):
                    await asyncio.shield(rollout.restore())
            except (BalancerError, SSHError, TimeoutError) as exc:
                error = str(exc) or type(exc).__name__
                logger.warning("deployment %s: restore of %s failed (try %d): %s",
                               self.ctx.deployment_id, label, attempt + 1, error)
                await asyncio.sleep(1.0)
                continue
            await self.sink.step_finished(name, label, "succeeded", 0)
            return
        await self.sink.step_finished(name, label, "failed", None, error)

    async def _recovery_steps(self, session: ServerSession, pipeline: Sequence[Step]) -> None:
        for step in pipeline:
            await self._recovery_step(session, step)

    async def _recovery_step(self, session: ServerSession, step: Step) -> None:
        # Best effort: an undo step that fails is reported and the others still run.
        with contextlib.suppress(StepError, LeaseLost):
            await asyncio.shield(self._step(session, step, timeout=RECOVERY_STEP_TIMEOUT))

    def _failed(self, step: str, error: str) -> PipelineResult:
        return PipelineResult("failed", step, error, self._commit())

    def _commit(self) -> str:
        return next((s.commit for s in self.sessions if s.commit), "")


def _describe(
    exc: BaseException, step: str, timeout: float, session: ServerSession
) -> tuple[int | None, str]:
    """(exit code, message + the step's last output lines) for a failed step."""
    if isinstance(exc, TimeoutError):
        code, message = None, f"{step} timed out after {timeout:g}s"
    elif not isinstance(exc, EXPECTED_FAILURES):
        code, message = None, f"internal error: {type(exc).__name__}: {exc}"
    else:
        code, message = getattr(exc, "exit_code", None), str(exc)
    if session.last_lines:
        message += "\nlast output:\n" + "\n".join(session.last_lines)
    return code, message


async def _all_settled(coroutines: list[Coroutine[Any, Any, None]]) -> None:
    """Run concurrently to the end, each of them; then raise the first failure (in the
    order given), if any."""
    outcomes = await asyncio.gather(*coroutines, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


async def _all_or_none(coroutines: list[Coroutine[Any, Any, None]]) -> None:
    """Run concurrently; the first exception cancels the others (and their remote commands)."""
    tasks = [asyncio.create_task(coroutine) for coroutine in coroutines]
    try:
        await asyncio.wait(tasks, return_when="FIRST_EXCEPTION")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
