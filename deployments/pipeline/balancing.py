"""The steps of a rolling deploy that act on the load balancer for one server (the runner
calls them around that server's switch, see runner.py `_roll`): drain, enable, canary.

Each changes this deployment's overrides (deployments/pipeline/rolling.py) and puts the whole
config live on the balancer; a balancer that refuses fails the step, and the runner's undo
switches back and restores the balancer's config as generated.
"""

from __future__ import annotations

import asyncio

from deployments.pipeline.rolling import CANARY, DRAINED, BalancerError, Rollout
from deployments.pipeline.session import ServerSession, StepFailed

SKIPPED = "skipped"


async def drain(s: ServerSession) -> str | None:
    """Take the server out of the balancer (`down`), then wait the bounded drain time while
    the requests it holds finish (nginx's old workers end theirs after the graceful reload)."""
    rollout = _rollout(s)
    if s.name not in rollout.link.backends:
        await s.note(f"{s.name} is not a backend of {rollout.link.label}: nothing to drain")
        return SKIPPED
    if not rollout.can_drain(s.name):
        await s.note(f"{s.name} is the only enabled backend of {rollout.link.label}: it stays in "
                     "(the switch is atomic; draining it would leave the site no backend)")
        return SKIPPED
    await _set(s, rollout, DRAINED)
    await s.note(f"phase: drained from {rollout.link.label}; waiting "
                 f"{rollout.link.drain_seconds:g}s for its in-flight requests")
    await asyncio.sleep(rollout.link.drain_seconds)
    return None


async def enable(s: ServerSession) -> str | None:
    """Put the server back (with the canary weight when it is the canary)."""
    rollout = _rollout(s)
    if s.name not in rollout.link.backends:
        return SKIPPED
    if s.name == rollout.canary_server:
        rollout.canary_mark = await _guard(rollout.log_size())
        await _set(s, rollout, CANARY)
        await s.note(f"phase: canary on {rollout.link.label} with weight "
                     f"{rollout.link.canary_weight} for {rollout.link.canary_seconds:g}s")
        return None
    await _set(s, rollout, None)
    await s.note(f"phase: live on {rollout.link.label}")
    return None


async def canary(s: ServerSession) -> str | None:
    """Watch the canary's 5xx rate in the balancer's access log for the window; above the
    threshold the deployment fails (and everything rolls back), else it goes to full weight."""
    rollout = _rollout(s)
    if s.name != rollout.canary_server:
        return SKIPPED
    link = rollout.link
    await asyncio.sleep(link.canary_seconds)
    count = await _guard(rollout.canary_count(s.name, rollout.canary_mark))
    verdict = (f"canary {s.name}: {count.errors} of {count.requests} requests answered 5xx "
               f"({count.rate:.1%}, threshold {link.canary_max_error_rate:.1%})")
    await s.note(verdict)
    if count.requests >= link.canary_min_requests and count.rate > link.canary_max_error_rate:
        raise StepFailed(f"{verdict}; rolled back")
    await _set(s, rollout, None)
    await s.note(f"phase: live on {link.label}")
    return None


def _rollout(s: ServerSession) -> Rollout:
    if s.rollout is None:
        raise StepFailed("no load balancer for this deployment")
    return s.rollout


async def _set(s: ServerSession, rollout: Rollout, state: str | None) -> None:
    await s.note(f"applying {rollout.link.label}'s config ({s.name}: {state or 'enabled'})")
    await _guard(rollout.set_state(s.name, state))


async def _guard(awaitable):
    """A balancer error is this step's failure (with nginx's or SSH's words)."""
    try:
        return await awaitable
    except BalancerError as exc:
        raise StepFailed(str(exc)) from exc
