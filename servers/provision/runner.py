"""Run the provisioning steps on each server of a site, one step after another, logged.

`provision(targets, spec, sink)` connects to every server (as its own user: root, or one with
passwordless sudo), runs `STEPS` on each in turn and returns how it ended. Nothing here knows
Django: the deployments app passes the targets, the spec and its sink.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from servers.provision.facts import HostFacts
from servers.provision.steps import (
    STEPS,
    ProvisionFailed,
    ProvisionRun,
    ProvisionSink,
    Step,
    Templates,
    root_prefix,
)
from servers.provision.templates import SiteSpec
from servers.ssh import SSHError, SSHTarget, connect


@dataclass(frozen=True)
class ProvisionTarget:
    name: str
    target: SSHTarget


@dataclass
class ProvisionResult:
    status: str  # succeeded | failed | cancelled
    failed_step: str = ""
    error: str = ""
    changed: dict[str, list[str]] = field(default_factory=dict)  # server -> steps that changed
    facts: dict[str, HostFacts] = field(default_factory=dict)  # server -> what was found


async def provision(
    targets: Sequence[ProvisionTarget],
    spec: SiteSpec,
    sink: ProvisionSink,
    *,
    steps: Sequence[Step] = STEPS,
    templates: Templates | None = None,
    dry_run: bool = False,
    cancel: asyncio.Event | None = None,
) -> ProvisionResult:
    """Provision `spec` on every target in turn; stop at the first failure. `dry_run` only
    logs the diffs of what would change. `cancel`, once set, stops the run before its next
    step (a step itself always finishes: its files are then whole and validated)."""
    result = ProvisionResult(status="succeeded")
    for server in targets:
        as_root = root_prefix(server.target.username)
        try:
            async with await connect(server.target) as conn:
                run = ProvisionRun(
                    conn,
                    server.name,
                    spec,
                    sink,
                    as_root=as_root,
                    templates=templates or Templates(),
                    dry_run=dry_run,
                )
                result.changed[server.name] = await _run_steps(run, steps, result, cancel)
                if result.status == "succeeded":
                    result.facts[server.name] = run.facts
        except (SSHError, OSError) as exc:
            result.status, result.error = "failed", f"{server.name}: {exc}"
        if result.status != "succeeded":
            break
    return result


async def _run_steps(
    run: ProvisionRun, steps: Sequence[Step], result: ProvisionResult,
    cancel: asyncio.Event | None = None,
) -> list[str]:
    changed: list[str] = []
    for step in steps:
        name = step.__name__
        if cancel is not None and cancel.is_set():
            result.status, result.failed_step = "cancelled", name
            result.error = f"{run.server}: cancelled before {name}"
            return changed
        await run.sink.step_started(name, run.server)
        started = time.monotonic()
        try:
            if await step(run):
                changed.append(name)
        except ProvisionFailed as exc:
            await run.sink.step_finished(name, run.server, "failed", None, str(exc))
            result.status, result.failed_step = "failed", name
            result.error = "\n".join([f"{run.server}: {exc}", *run.last_lines[-10:]])
            return changed
        words = ("would change", "nothing to change") if run.dry_run else ("changed", "unchanged")
        outcome = words[0] if name in changed else words[1]
        await run.note(f"{name}: {outcome} ({time.monotonic() - started:.1f} s)")
        await run.sink.step_finished(name, run.server, "succeeded", 0)
    return changed
