"""Each server's phase in a deployment, read from its step records (pure, no queries).

A rolling deploy (deployments/pipeline/runner.py `_roll`) reports the steps drain, activate,
reload, health_check_live, enable, canary on each server and restore_balancer on the balancer;
the phase is what the latest of them says, so the deployment page needs no extra field and
shows the same thing live (re-rendered on each step event) and afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PREPARING, DRAINED, SWITCHING, PROBING = "preparing", "drained", "switching", "probing"
CANARY, LIVE, ROLLED_BACK = "canary", "live", "rolled back"
# The phase a step puts its server in, by step name.
STEP_PHASES = {
    "drain": DRAINED,
    "activate": SWITCHING, "activate_release": SWITCHING, "reload": SWITCHING,
    "health_check_live": PROBING,
    "canary": CANARY,
    "switch_back": ROLLED_BACK,
}
# Out of the balancer (written `down`) in these phases.
OUT_OF_BALANCER = frozenset({DRAINED, SWITCHING, PROBING})


@dataclass(frozen=True)
class ServerPhase:
    server: str
    phase: str
    failed: bool = False

    @property
    def balancer_state(self) -> str:
        if self.phase in OUT_OF_BALANCER:
            return "drained"
        return "canary weight" if self.phase == CANARY else "enabled"


def server_phases(steps: Iterable, servers: Iterable[str]) -> list[ServerPhase]:
    """The phase of each of `servers` after `steps` (DeploymentStep rows in order)."""
    phases = {name: ServerPhase(name, PREPARING) for name in servers}
    drained: set[str] = set()  # these go live only when enabled again
    for step in steps:
        if step.server not in phases:
            continue
        if step.name == "drain" and step.status == "succeeded":
            drained.add(step.server)
        phase = _phase_after(step, phases[step.server].phase, step.server in drained)
        phases[step.server] = ServerPhase(step.server, phase, step.status in ("failed",
                                                                             "timed_out"))
    return list(phases.values())


def balancer_step(steps: Iterable) -> object | None:
    """The last restore_balancer record (the balancer put back as generated), if any."""
    found = [step for step in steps if step.name == "restore_balancer"]
    return found[-1] if found else None


def _phase_after(step, current: str, was_drained: bool) -> str:
    if step.name == "health_check_live" and step.status in ("succeeded", "skipped"):
        return PROBING if was_drained else LIVE  # without a balancer, live once probed
    if step.name == "enable":
        return LIVE if step.status in ("succeeded", "skipped") else current
    if step.name == "canary" and step.status == "succeeded":
        return LIVE
    if step.name == "switch_back" and step.status == "running":
        return current
    if step.name == "reload" and current == ROLLED_BACK:
        return ROLLED_BACK  # the reload that goes with a switch back
    return STEP_PHASES.get(step.name, current)
