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

from functools import cache
from importlib import resources

from deployments.pipeline.actions import Command
from deployments.pipeline.context import DeployContext, Paths

# Exit statuses of fence.sh.
LOCK_BUSY = 75
FENCED = 76

ACQUIRE, CHECK = "acquire", "check"


@cache
def script(name: str) -> str:
    """The text of deployments/pipeline/scripts/<name>."""
    return (resources.files("deployments.pipeline") / "scripts" / name).read_text()


def run_tag(deployment_id: int, deploy_path: str) -> str:
    """What DEPLOYNIX_RUN holds for every process of this deployment on this site."""
    return f"{deployment_id}@{deploy_path}"


def fenced(command: Command, ctx: DeployContext, mode: str, *, deployment_id: int | None = None
           ) -> Command:
    """`command` run under the site's flock, after the lock decision `mode` allowed it."""
    paths = Paths.of(ctx)
    holder = ctx.deployment_id if deployment_id is None else deployment_id
    argv = (
        "sh", "-c", script("fence.sh"), "fence", paths.state, mode, str(ctx.epoch),
        str(holder), script("stop_run.sh"), *command.argv,
    )  # fmt: skip
    return Command(
        argv, cwd=command.cwd, env=command.env, when=command.when,
        fail_message=command.fail_message, stdin=command.stdin,
        label=command.label or "", retry=command.retry, untagged=command.untagged,
    )


def stop_run(ctx: DeployContext) -> Command:
    """Stop every process of this deployment still running on the server (idempotent)."""
    paths = Paths.of(ctx)
    tag = run_tag(ctx.deployment_id, paths.deploy)
    argv = ("sh", "-c", script("stop_run.sh"), "stop_run", paths.run_pids, tag)
    return Command(argv, label=f"stop what deployment {ctx.deployment_id} still runs here",
                   retry=True, untagged=True)


def fence_off(ctx: DeployContext) -> Command:
    """Take the lock for nobody at ctx.epoch: stops an older holder's processes and fences
    it off for good (used by reconcile after the watchdog took a deployment away)."""
    return fenced(Command(("true",), retry=True, untagged=True), ctx, ACQUIRE, deployment_id=0)
