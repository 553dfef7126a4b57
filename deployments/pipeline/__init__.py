"""The release pipeline: pure builders, steps as data, and an async runner over SSH.

Imports only the standard library, asyncssh and servers.ssh / servers.shell (no
Django). The Celery task builds a DeployContext and a Sink and awaits
`run_deploy` or `run_rollback`; docs/pipeline.md describes the steps.

Behaviour worth knowing on the Django side:
- Secrets: the pipeline never prints the deploy key or the HTTPS token (they travel
  on the fetch command's stdin into 0600 files, removed when the fetch ends, on
  failure and cancellation too), but user scripts may print anything: redacting
  `ctx.secrets` is the sink's job.
- Cost: every remote command is a round trip, so steps batch their work: a plain
  PHP deploy is 6 commands, a Laravel one (composer, npm build, migrations, caches,
  queue restart) 18, a rollback 3 (pinned by tests/deployments/pipeline/test_round_trips.py).
  Steps with nothing to do (no composer.json, no script) ask the server nothing.
- Git's ssh to the repository host prefers curve25519 key exchange (see
  git.FAST_KEX_FIRST): OpenSSH 9.2's default sntrup761 hybrid costs ~250 ms here.
- Repository host keys: with `repository_host_keys` empty, an ssh repository's host
  is scanned (ssh-keyscan) and trusted for this deployment only, and each key is
  reported as an 'info' line "repository host key not pinned, trusting on first use:
  <known_hosts line>" so the Django side can offer to pin it.
- A failure at or after the switch (activate, reload, health_check_live, restart_workers)
  switches every switched server back and reloads it; only `cleanup` failing leaves the
  deploy succeeded (its step is reported failed). With a health check (ctx.health_check)
  the new release is probed before any switch, each server live after its own
  (deployments/pipeline/health.py).
- Workers (ctx.workers, ctx.worker_group): `restart_workers` installs the site's supervisor
  programs, restarts them onto the release just switched to and fails unless every worker
  process runs it (deployments/pipeline/workers.py); `switch_back` moves them back.
- Besides DEPLOY_STEPS/ROLLBACK_STEPS, a failed run reports the undo steps
  `switch_back`, `reload`, `hook_on_failure` (when set) and `discard_release`.
- The site's hooks (ctx.hooks, deployments/pipeline/hooks.py) are steps named `hook_<point>`,
  present only where the site has a script.
- Cancel: a cancel asked for while a step before the switch runs kills that step; one asked
  for as it ends is seen right before the switch (Sink.cancel_requested): never live.
- Behind a load balancer (ctx.balancer, deployments/pipeline/rolling.py) each server's switch
  also reports `drain`, `enable` (and `canary` on the first), migrations run on the first
  server only, and a failed run reports `restore_balancer` under the balancer's name.
"""

from __future__ import annotations

from deployments.pipeline.context import (
    DeployContext,
    Hook,
    PipelineResult,
    ServerSpec,
    Sink,
)
from deployments.pipeline.runner import run_deploy, run_rollback
from deployments.pipeline.steps import DEPLOY, HOOK_STEPS, ROLLBACK

# Step names in order, e.g. to show the steps of a queued deployment (without the site's
# hooks, which run only where a script is set). A failed run may also report the undo steps:
# switch_back, reload, hook_on_failure, discard_release.
DEPLOY_STEPS: tuple[str, ...] = tuple(step.__name__ for step in DEPLOY if step not in HOOK_STEPS)
ROLLBACK_STEPS: tuple[str, ...] = tuple(step.__name__ for step in ROLLBACK)

__all__ = [
    "DEPLOY_STEPS",
    "ROLLBACK_STEPS",
    "DeployContext",
    "Hook",
    "PipelineResult",
    "ServerSpec",
    "Sink",
    "run_deploy",
    "run_rollback",
]
