"""The site's named hooks as pipeline steps: after fetch, before switch, after switch, after
cleanup, on failure. Hooks are more steps, not an event bus: steps.deploy_steps() puts each
configured one in its place, so it runs, logs and fails like every other step.

A hook runs its script with `bash -eo pipefail` (commands.hook) within its own timeout; past
it the remote script is killed and the step fails. Before the switch a failing hook fails the
deployment with nothing live changed; after the switch it switches back like any step there;
after cleanup the release stays live (reported only); on failure it is best effort.
"""

from __future__ import annotations

import asyncio

from deployments.pipeline import commands
from deployments.pipeline.session import ServerSession, StepFailed

POINTS = ("after_fetch", "before_switch", "after_switch", "after_cleanup", "on_failure")


async def _run_hook(s: ServerSession, point: str, *, in_release: bool = True) -> None:
    hook = s.ctx.hook(point)
    if hook is None:
        return
    command = commands.hook(s.ctx, hook, s.commit or s.ctx.commit or "", in_release=in_release)
    try:
        async with asyncio.timeout(hook.timeout):
            await s.run(command)
    except TimeoutError:
        raise StepFailed(f"the {point} hook ran past its timeout of {hook.timeout:g}s") from None


async def hook_after_fetch(s: ServerSession) -> None:
    """The site's after-fetch hook: the code is in the release, nothing else yet."""
    await _run_hook(s, "after_fetch")


async def hook_before_switch(s: ServerSession) -> None:
    """The site's before-switch hook: the release is built and checked, not yet live."""
    await _run_hook(s, "before_switch")


async def hook_after_switch(s: ServerSession) -> None:
    """The site's after-switch hook: the release is live on this server."""
    await _run_hook(s, "after_switch")


async def hook_after_cleanup(s: ServerSession) -> None:
    """The site's after-cleanup hook: the deploy is done, old releases pruned."""
    await _run_hook(s, "after_cleanup")


async def hook_on_failure(s: ServerSession) -> None:
    """The site's on-failure hook, in the deploy path (the release may be half-built)."""
    if s.state.refused:
        return  # the deploy path was refused: run nothing of the site's there
    await _run_hook(s, "on_failure", in_release=False)


BY_POINT = {
    "after_fetch": hook_after_fetch, "before_switch": hook_before_switch,
    "after_switch": hook_after_switch, "after_cleanup": hook_after_cleanup,
    "on_failure": hook_on_failure,
}  # fmt: skip
