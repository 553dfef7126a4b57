"""The dry run's view of the pipeline: for each step of DEPLOY, the commands it would send to
one server, asked of the same pure builders the steps use. Nothing here runs anything.

A command is shown as its label when it has one (a constant script's argv would be pages
long), else as the shell text servers.shell would send; an upload as its path, mode and size
(never its contents: the .env is a secret).
"""

from __future__ import annotations

import posixpath

from deployments.pipeline import commands, facts, git, health, lock, seed
from deployments.pipeline.actions import Action, Upload
from deployments.pipeline.context import DeployContext, Paths, ServerSpec
from deployments.pipeline.facts import ServerFacts
from servers.shell import command_line

# (step, what runs) for steps whose commands depend on what only the run learns.
NOTES = {
    "stack_check": "show the server stack check's warnings (no command)",
    "health_check": "no health check configured",
    "health_check_live": "no health check configured",
}


def preview(
    ctx: DeployContext, spec: ServerSpec, server_facts: ServerFacts, sha: str
) -> list[tuple[str, list[str]]]:
    """(step name, shown commands) for every step of a deploy of `sha` to `spec`."""
    previous = server_facts.current_release
    has_build = True  # decided on the server from package.json: shown as it would run
    fetch = git.fetch_and_resolve(ctx, posixpath.join(Paths.of(ctx).state, "git.<random>"), [],
                                  has_mirror=True)
    planned: list[tuple[str, list[Action]]] = [
        ("prepare", [facts.guard(ctx, spec.deploy_roots), facts.probe(ctx)]),
        ("fetch_code", _fetch_code(ctx, spec, fetch, sha)),
        ("link_shared", commands.link_shared(ctx)),
        ("write_env", commands.write_env(ctx)),
        ("install", commands.install(ctx, previous)),
        ("migrate", _migrate(ctx, spec)),
        ("build_assets", commands.build_assets(ctx, previous, has_build)),
        ("optimize", commands.optimize(ctx)),
        ("custom_script", commands.custom_script(ctx, sha)),
        ("stack_check", []),
        ("health_check", [health.probe_release(ctx, ctx.health_check)] if ctx.health_check
         else []),
        ("activate", [commands.activate(ctx)]),
        ("reload", commands.reload(ctx)),
        ("health_check_live", [health.probe_live(ctx.health_check, spec)] if ctx.health_check
         else []),
        ("restart_workers", commands.restart_workers(ctx)),
        ("cleanup", [commands.cleanup(ctx, server_facts, sha)]),
    ]
    return [(step, [shown(action) for action in actions] or _note(step))
            for step, actions in planned]


def _fetch_code(ctx: DeployContext, spec: ServerSpec, fetch: Action, sha: str) -> list[Action]:
    first = ctx.servers[0]
    if seed.fetches_once(ctx) and spec != first:
        return [git.receive_release(ctx, sha, first.name)]  # streamed from the seed
    return [fetch, git.extract_release(ctx, sha)]


def _migrate(ctx: DeployContext, spec: ServerSpec) -> list[Action]:
    if ctx.balancer is not None and spec != ctx.servers[0]:
        return []  # a rolling deploy migrates on the first server only
    return list(commands.migrate(ctx))


def _note(step: str) -> list[str]:
    return [f"({NOTES.get(step, 'nothing to do for this site')})"]


def shown(action: Action) -> str:
    """How the plan shows one action."""
    if isinstance(action, Upload):
        return f"write {action.path} (mode {action.mode:o}, {len(action.data)} bytes, " \
               "contents not shown)"
    text = action.label or command_line(action.argv, cwd=action.cwd, env=action.env or None)
    conditions = " && ".join(command_line(check) for check in action.when)
    fenced = " [under the site lock]" if action.fence in (lock.ACQUIRE, lock.CHECK) else ""
    return (f"if {conditions}: " if conditions else "") + text + fenced
