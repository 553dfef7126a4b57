"""The site's lock on each server, fenced by an epoch: one executor per site, on the server.

The database gives every lease on a site a higher epoch (Site.deploy_epoch, copied to the
deployment when it is claimed). On each server `<deploy_path>/.deploynix/lock` names the
epoch and deployment that hold it. `prepare` (and a rollback's first step) *acquire* it:
refused when a newer epoch holds it; an older holder that still has processes running
(a worker that was paused or cut off) has them stopped first. Every command that changes
what users get (shared paths, `.env`, the switch and switch back, pruning, removing a
release) is *checked*: it runs, under the same flock(1), only while the lock still names
its own deployment and epoch. A worker that wakes up after losing its lease therefore
changes nothing, whatever it believes.

Every command of a deployment carries a run tag in its environment and a pid file for its
process group (servers.ssh.job), so `stop_run` finds them all over any connection.
"""

from __future__ import annotations

import posixpath
from dataclasses import replace

from deployments.pipeline.actions import Command
from deployments.pipeline.context import DeployContext, Paths
from deployments.pipeline.scripts import script

# Exit statuses of fence.sh.
LOCK_BUSY = 75
FENCED = 76

ACQUIRE, CHECK = "acquire", "check"


def run_tag(deployment_id: int, deploy_path: str) -> str:
    """What DEPLOYNIX_RUN holds for every process of this deployment on this site."""
    return f"{deployment_id}@{deploy_path}"


def fenced(command: Command, ctx: DeployContext, mode: str) -> Command:
    """`command` run under the site's flock, after the lock decision `mode` allowed it."""
    return _fenced(command, Paths.of(ctx).state, mode, ctx.epoch, ctx.deployment_id)


def stop_run(ctx: DeployContext) -> Command:
    """Stop every process of this deployment still running on the server (idempotent)."""
    paths = Paths.of(ctx)
    tag = run_tag(ctx.deployment_id, paths.deploy)
    argv = ("sh", "-c", script("stop_run.sh"), "stop_run", paths.run_pids, tag)
    return Command(argv, label=f"stop what deployment {ctx.deployment_id} still runs here",
                   retry=True, untagged=True)


def fence_off(deploy_path: str, epoch: int) -> Command:
    """Take the site's lock at `epoch` for nobody (deployment 0): an older holder's processes
    are stopped and every later command of it is refused. Reconcile runs this after the
    watchdog took a deployment away from a silent worker (deployments/reconcile.py)."""
    state = posixpath.join(posixpath.normpath(deploy_path), ".deploynix")
    return _fenced(Command(("true",), untagged=True), state, ACQUIRE, epoch, 0)


def _fenced(command: Command, state: str, mode: str, epoch: int, holder: int) -> Command:
    argv = (
        "sh", "-c", script("fence.sh"), "fence", state, mode, str(epoch), str(holder),
        script("stop_run.sh"), *command.argv,
    )  # fmt: skip
    # Everything else of the command stays (who runs it: as_root, as_server_user, too).
    return replace(command, argv=argv, fence="")
