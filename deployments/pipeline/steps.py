"""The pipeline as data: which steps run, in which order, and what undoes a failure.

A step is an async function of one ServerSession. It asks the pure builders
(commands.py, git.py) for argv commands and runs them; it returns SKIPPED when
there was nothing to do. The runner prepares every server with the steps before
the switch step (in parallel), switches the first server alone and then the others
together, then runs the rest.
"""

from __future__ import annotations

import asyncio
import posixpath
import secrets
from collections.abc import Awaitable, Callable

from deployments.pipeline import commands, facts, git, health, hooks, lock, seed, workers
from deployments.pipeline.actions import Command
from deployments.pipeline.commit import not_found
from deployments.pipeline.context import FULL_SHA, DeployContext, HealthCheck, Paths
from deployments.pipeline.session import ServerSession, StepFailed

SKIPPED = "skipped"
# The Django side pins the key that follows this note once the deploy succeeds.
TOFU_NOTE = "repository host key not pinned, trusting on first use: "
# How long a cancelled switch (one short command) may take to end, see activate.
SWITCH_GRACE = 10.0
# A probe ends by itself within its timeout (curl --max-time); this is the guard on top,
# which also covers starting PHP's built-in server for the pre-switch probe.
PROBE_SLACK = 10.0
ROLLED_BACK = "health check failed after switch; rolled back"
# Workers still starting (or backing off after a crash) are looked at again, a second apart,
# this many times before their state counts: supervisor gives up on a crashing one within it.
WORKER_LOOKS = 12
SETTLING = frozenset({"STARTING", "BACKOFF", "STOPPING"})
Step = Callable[[ServerSession], Awaitable[str | None]]
# How a skipped deploy's error begins: its commit was live already (see fetch_code).
ALREADY_LIVE = "already live"


class AlreadyLive(StepFailed):
    """The resolved commit is the live one and the deploy was not forced: stop, skipped."""


async def prepare(s: ServerSession) -> None:
    """Check that the deploy path may hold a site here (the server has the last word), then
    create the layout and the release, learn the server's facts (one command); refuse
    unsafe states."""
    refusal = facts.guard_refusal(await s.report(facts.guard(s.ctx, s.spec.deploy_roots)))
    if refusal:
        s.state.refused = True  # nothing was created: the failure steps must not create either
        raise StepFailed(refusal)
    reported = await s.report(facts.probe(s.ctx))
    s.state.facts = facts.parse_probe(reported)
    s.state.created_release = facts.created(reported)  # so a refusal below removes it
    refusal = commands.prepare_refusal(s.ctx, s.state.facts)
    if refusal:
        raise StepFailed(refusal)
    if not s.state.created_release:
        raise StepFailed(commands.not_created(s.ctx, s.state.facts))


async def fetch_code(s: ServerSession) -> None:
    """Update the mirror with temporary credentials and resolve the commit (one command),
    then extract exactly that commit (one command). With several servers only the first
    (the seed) does so; the others receive the release from it (deployments/pipeline/seed.py)."""
    if seed.receives(s):
        await _receive_code(s)
        return
    temp = posixpath.join(Paths.of(s.ctx).state, f"git.{secrets.token_hex(6)}")
    files = git.credential_files(s.ctx, temp, await _repository_host_keys(s))
    fetch = git.fetch_and_resolve(s.ctx, temp, files, has_mirror=s.state.facts.has_mirror)
    # The script removes the directory when it ends; if it is killed outright,
    # discard_release removes it, because it stays listed here.
    s.state.temp_dirs.append(temp)
    try:
        described = await s.report(fetch)
    except StepFailed as exc:
        if exc.exit_code == git.REF_NOT_FOUND:
            raise StepFailed(not_found(s), exc.exit_code) from exc
        raise
    s.state.temp_dirs.remove(temp)
    s.commit = await s.resolver.settle(s, described)
    if seed.is_seed(s):
        s.resolver.seeded(s)  # before the live vote below, which waits for every server
    await _stop_if_live_everywhere(s)
    if s.ctx.forward_only:
        await _refuse_backwards(s)
    s.state.release_files = git.parse_release_files(
        await s.report(git.extract_release(s.ctx, s.commit))
    )


async def _receive_code(s: ServerSession) -> None:
    """fetch_code on a server that is not the seed: the seed's commit, the same live vote,
    then the release streamed from the seed's mirror. The forward-only check ran on the seed
    (one commit, one answer); this server's mirror is neither needed nor updated."""
    source = await s.resolver.seed_session()
    s.commit = source.commit
    await _stop_if_live_everywhere(s)
    s.state.release_files = git.parse_release_files(await seed.stream_release(s, source))


async def _stop_if_live_everywhere(s: ServerSession) -> None:
    """AlreadyLive when the commit is live on every server (each server votes, see commit.py)."""
    if s.ctx.live_commit and await s.resolver.live_everywhere(await _live_here(s)):
        raise AlreadyLive(f"{ALREADY_LIVE}: {s.commit[:12]} is live on every server "
                          "(deploy with force to build it again)")


async def _live_here(s: ServerSession) -> bool:
    """Whether this server serves the deployment's commit now: the commit is the live one the
    panel recorded, and the REVISION of the release `current` points at here says so too (a
    server added since, or changed by hand, does not)."""
    if s.commit != s.ctx.live_commit:
        return False
    revision = posixpath.join(Paths.of(s.ctx).current, "REVISION")
    text = await s.capture(("cat", "--", revision), required=False)
    return (text or "").strip() == s.commit


async def _refuse_backwards(s: ServerSession) -> None:
    """A push-triggered deploy of a commit that is neither the branch tip nor a descendant of
    the live commit is a stale or replayed push: refused before anything is extracted."""
    try:
        await s.report(git.forward_check(s.ctx, s.commit))
    except StepFailed as exc:
        if exc.exit_code == git.STALE_COMMIT:
            raise StepFailed(
                f"{git.STALE_PUSH} {s.commit[:12]} is not the tip of {s.ctx.branch} and does "
                "not descend from the live commit", exc.exit_code) from exc
        raise


async def link_shared(s: ServerSession) -> None:
    """Replace shared paths in the release with symlinks into shared/."""
    await s.perform(commands.link_shared(s.ctx))


async def write_env(s: ServerSession) -> str | None:
    """Write the release's own .env (0600) when the site has an environment."""
    return None if await s.perform(commands.write_env(s.ctx)) else SKIPPED


async def install(s: ServerSession) -> str | None:
    """Composer install (reusing vendor/ when composer.lock is unchanged)."""
    if "composer.json" not in s.state.release_files:
        return SKIPPED  # known from the extraction: no round trip to find out
    await _warn_missing_extensions(s)
    ran = await s.perform(commands.install(s.ctx, s.state.facts.current_release))
    return None if ran else SKIPPED


async def _warn_missing_extensions(s: ServerSession) -> None:
    """Say which `ext-*` requirements this server's PHP lacks (before composer fails on them)."""
    composer_json = posixpath.join(Paths.of(s.ctx).release, "composer.json")
    # One round trip: the server's own PHP reads composer.json and asks extension_loaded().
    found = await s.capture(commands.missing_extensions_check(composer_json), required=False)
    missing = sorted(found.split()) if found else []
    if missing:
        await s.note(commands.MISSING_EXTENSIONS + ", ".join(missing))


async def migrate(s: ServerSession) -> str | None:
    """Laravel migrations; behind a load balancer on the first server only (one schema, and
    every server's old release keeps serving through the rolling switch)."""
    if s.ctx.balancer is not None and s.spec != s.ctx.servers[0]:
        await s.note(f"migrations run on {s.ctx.servers[0].name} only (rolling deploy)")
        return SKIPPED
    return None if await s.perform(commands.migrate(s.ctx)) else SKIPPED


async def build_assets(s: ServerSession) -> str | None:
    """npm ci + npm run build when package.json has a build script, then build commands."""
    package_json = posixpath.join(Paths.of(s.ctx).release, "package.json")
    has_build = "package.json" in s.state.release_files and commands.has_build_script(
        await s.read_file(package_json)
    )
    built = commands.build_assets(s.ctx, s.state.facts.current_release, has_build)
    return None if await s.perform(built) else SKIPPED


async def optimize(s: ServerSession) -> str | None:
    """Laravel caches."""
    return None if await s.perform(commands.optimize(s.ctx)) else SKIPPED


async def custom_script(s: ServerSession) -> str | None:
    """The site's own deploy script."""
    return None if await s.perform(commands.custom_script(s.ctx, s.commit)) else SKIPPED


async def activate(s: ServerSession) -> None:
    """Switch `current` to the release atomically, remembering where it pointed (one command)."""
    printed: list[str] = []
    switching = asyncio.ensure_future(s.report(commands.activate(s.ctx), into=printed))
    try:
        await _finish_even_if_cancelled(switching)
    finally:
        s.state.switched = _switched(switching)
        s.state.previous_target = _previous_target(s, printed)


async def stack_check(s: ServerSession) -> None:
    """Show the server stack check's warnings before the switch (no round trip: the findings
    come from the last connection check). Warnings never stop a deploy."""
    for warning in s.spec.stack_warnings:
        await s.note(f"stack check: {warning}")


async def health_check(s: ServerSession) -> str | None:
    """Before any switch: probe the NEW release on this server where no user can see it
    (health.probe_release); an unhealthy answer fails the deployment, nothing switches."""
    check = s.ctx.health_check
    if check is None:
        return SKIPPED
    reason = await _probe(s, check, health.probe_release(s.ctx, check), "release")
    if reason:
        raise StepFailed(f"health check failed before the switch: {reason}")
    return None


async def health_check_live(s: ServerSession) -> str | None:
    """Right after this server's switch (and reload): probe the live site through its web
    server; an unhealthy answer switches it back, and every server switched before it."""
    check = s.ctx.health_check
    if check is None:
        return SKIPPED
    reason = await _probe(s, check, health.probe_live(check, s.spec), "live")
    if reason:
        raise StepFailed(f"{ROLLED_BACK}: {reason}")
    return None


async def reload(s: ServerSession) -> str | None:
    """Reload PHP (php-fpm or Octane) so new requests run the new code, unless the stack check
    found a PHP-FPM reload would drop requests on this server and is not needed."""
    if s.ctx.reload_method == "php-fpm" and s.spec.reload == "skip":
        await s.note("reload skipped: process_control_timeout = 0 would drop in-flight requests, "
                     "and nginx's $realpath_root already serves the new release")
        return SKIPPED
    return None if await s.perform(commands.reload(s.ctx)) else SKIPPED


async def restart_workers(s: ServerSession) -> str | None:
    """Restart the site's workers onto the release `current` now points at and verify that
    each runs it (deployments/pipeline/workers.py); a site whose workers Deploynix does not
    manage gets Laravel's `queue:restart` (its workers restart after their job)."""
    if not s.ctx.worker_group:
        return None if await s.perform(commands.restart_workers(s.ctx)) else SKIPPED
    await _restart_supervised(s, s.ctx.release)
    return None


async def _restart_stale_octane(s: ServerSession, look_at, systemd: bool) -> None:
    """An Octane daemon its graceful reload left in the old release is restarted (a short gap
    on its port) rather than left serving the old code (workers.stale_octane says why)."""
    if not any(worker.octane for worker in s.ctx.workers):
        return
    stale = workers.stale_octane(s.ctx, workers.parse_report(await s.report(look_at)))
    if not stale:
        return
    names = ", ".join(worker.name for worker in stale)
    await s.note(f"octane:reload left {names} in the previous release (Octane keeps the base "
                 "path it started in): restarting it from current")
    await s.run(workers.restart_processes(s.ctx, s.spec.supervisor_config, stale, systemd))


async def _restart_supervised(s: ServerSession, release: str) -> None:
    """Install the site's programs, restart (or reload) them, then check every process runs
    `release`: a worker that did not follow fails the step, named."""
    s.state.workers_restarted = True  # from here on a switch back moves them back too
    conf, systemd = s.spec.supervisor_config, s.spec.systemd
    # The workers run as the site's user where it has one (provisioned), else the SSH user's.
    user = s.spec.run_as or s.spec.target.username
    manager = "systemd" if systemd else "supervisor"
    restart_failed: StepFailed | None = None
    try:
        await s.run(workers.systemd_apply(s.ctx, user) if systemd
                    else workers.apply(s.ctx, conf, user))
    except StepFailed as exc:
        if exc.exit_code == workers.CONFIG_REFUSED:
            raise StepFailed(f"{manager} refused the workers' config; the previous config "
                             "stays installed", exc.exit_code) from exc
        if exc.exit_code != workers.RESTART_FAILED:
            raise
        restart_failed = exc  # the report below names the worker that did not come back
    if not systemd:  # under systemd, the unit's ExecReload is Octane's reload
        await s.perform(workers.octane_reloads(s.ctx))
    if not s.ctx.workers:
        return
    look_at = workers.systemd_report(s.ctx) if systemd else workers.report(s.ctx, conf)
    await _restart_stale_octane(s, look_at, systemd)
    for look in range(WORKER_LOOKS):
        seen = workers.parse_report(await s.report(look_at))
        found = workers.problems(s.ctx, seen, release)
        settling = any(state in SETTLING for state, _pid in seen.states.values())
        if not found or not settling or look == WORKER_LOOKS - 1:
            break
        await asyncio.sleep(1.0)
    for problem in found:
        await s.note(problem)
    if found:
        raise StepFailed(f"workers do not all run release {release}: " + "; ".join(found))
    if restart_failed is not None:
        raise restart_failed
    await s.note(f"workers run release {release}: "
                 + ", ".join(f"{w.name} ×{w.processes}" for w in s.ctx.workers))


async def cleanup(s: ServerSession) -> None:
    """Log the release as successful, then prune old releases (never live or previous)."""
    await s.run(commands.cleanup(s.ctx, s.state.facts, s.commit))


async def check_release(s: ServerSession) -> None:
    """Rollback: the target release must exist here; note its REVISION and the live target."""
    seen = dict(line.partition(" ")[::2] for line in await s.report(commands.check_release(s.ctx)))
    revision = seen.get("revision", "").strip()
    s.commit = revision if FULL_SHA.match(revision) else ""
    s.state.facts = facts.ServerFacts(current_target=seen.get("current"))


async def activate_release(s: ServerSession) -> None:
    """Rollback: switch `current` to the target release (same atomic switch as activate)."""
    await activate(s)


async def stop_processes(s: ServerSession) -> None:
    """After a failure: stop whatever this deployment still runs on the server (a command
    orphaned by a lost connection, a child that left its process group), over a new
    connection if the old one is gone, before anything it works in is removed."""
    await s.run(lock.stop_run(s.ctx))


async def discard_release(s: ServerSession) -> str | None:
    """After a failure: remove what this deployment created (never a release it didn't create)."""
    if s.state.refused:
        return SKIPPED  # the path was refused before anything was created
    temp_dirs = tuple(s.state.temp_dirs)
    await s.run(commands.discard_release(s.ctx, temp_dirs, release=s.state.created_release))
    s.state.temp_dirs.clear()
    return None


async def switch_back(s: ServerSession) -> None:
    """Re-point `current` at what it pointed to before this deployment switched it."""
    await s.run(commands.restore_current(s.ctx, s.state.previous_target))
    s.state.switched = False
    if s.state.workers_restarted and s.state.previous_target:
        # The workers followed the switch: they follow it back (and are checked there).
        await _restart_supervised(s, posixpath.basename(s.state.previous_target))


DEPLOY: tuple[Step, ...] = (
    prepare, fetch_code, hooks.hook_after_fetch, link_shared, write_env, install, migrate,
    build_assets, optimize, custom_script, stack_check, health_check, hooks.hook_before_switch,
    activate, reload, health_check_live, hooks.hook_after_switch, restart_workers, cleanup,
    hooks.hook_after_cleanup,
)  # fmt: skip
# The hook goes first: it may look at the half-built release before it is removed.
ON_FAILURE: tuple[Step, ...] = (stop_processes, hooks.hook_on_failure, discard_release)
ROLLBACK: tuple[Step, ...] = (
    check_release, activate_release, reload, health_check_live, restart_workers,
)  # fmt: skip

# The step that switches `current`: everything before it runs on all servers in
# parallel; it runs on the first server alone, then on the others together; failing at or
# after it switches back.
SWITCH_STEPS: frozenset[Step] = frozenset({activate, activate_release})
# Steps right after the switch that run with it: the first server is live, reloaded and
# found healthy before the others switch.
WITH_SWITCH: frozenset[Step] = frozenset({reload, health_check_live})
SWITCH_BACK: tuple[Step, ...] = (switch_back, reload)
# Once the release is live everywhere, a failing cleanup (or the hook after it) is reported
# but undoes nothing.
BEST_EFFORT: frozenset[Step] = frozenset({cleanup, hooks.hook_after_cleanup})
HOOK_STEPS: dict[Step, str] = {step: point for point, step in hooks.BY_POINT.items()}


def configured(ctx: DeployContext, pipeline: tuple[Step, ...]) -> tuple[Step, ...]:
    """`pipeline` without the hook steps the site has no script for (they would only add
    a "skipped" row to every deployment)."""
    return tuple(step for step in pipeline
                 if step not in HOOK_STEPS or ctx.hook(HOOK_STEPS[step]) is not None)


async def _finish_even_if_cancelled(task: asyncio.Future[list[str]]) -> None:
    """Await `task`; when cancelled meanwhile, still give it SWITCH_GRACE to end, then re-raise.

    A command cancelled while its channel opens may still run afterwards, so a
    cancelled switch could land AFTER switch_back. Letting it end makes `switched`
    a fact rather than a guess.
    """
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        try:
            await asyncio.wait([task], timeout=SWITCH_GRACE)
        finally:
            task.cancel()  # no-op when it has ended
        raise


def _previous_target(s: ServerSession, printed: list[str]) -> str | None:
    """Where `current` pointed before this deployment's switch.

    The switch prints it; but nothing is printed when it was cancelled early, and a retry
    after a lost connection may print this deployment's own target. Then what prepare read
    is the answer (one deployment per site at a time), never "no current".
    """
    own = posixpath.join("releases", s.ctx.release)
    first = printed[0] if printed else ""
    return first if first and first != own else s.state.facts.current_target


def _switched(task: asyncio.Future[list[str]]) -> bool:
    """False only when the switch command surely did not rename: it exited non-zero.

    `mv -T` is its last command and one rename(2); anything else (cancelled, connection
    lost) may have switched, so it counts as switched and gets switched back.
    """
    if not task.done() or task.cancelled():
        return True
    error = task.exception()
    return error is None or not (isinstance(error, StepFailed) and error.exit_code is not None)


async def _probe(s: ServerSession, check: HealthCheck, command: Command, what: str) -> str:
    """Run one probe, log its answer (status, elapsed ms, first body lines); why unhealthy."""
    try:
        async with asyncio.timeout(check.timeout + PROBE_SLACK):
            answer = health.parse(await s.report(command))
    except TimeoutError:
        answer = health.ProbeAnswer(None, round((check.timeout + PROBE_SLACK) * 1000),
                                    error="the probe did not end")
    reason = health.verdict(check, answer)
    await s.note(f"health check ({what}) on {s.name}: {answer.summary()} "
                 f"{'FAILED' if reason else 'ok'}")
    for line in answer.first_lines():
        await s.note(f"  | {line}")
    if reason and answer.first_lines():
        reason += "\n" + "\n".join(answer.first_lines())
    return reason


async def _repository_host_keys(s: ServerSession) -> tuple[str, ...]:
    """Pinned known_hosts lines for an ssh repository; scanned (TOFU) when none are pinned."""
    location = git.locate(s.ctx.repository_url)
    if location.transport != "ssh":
        return ()
    if s.ctx.repository_host_keys:
        return s.ctx.repository_host_keys
    scanned = await s.capture(git.keyscan(location), required=False) or ""
    lines = tuple(line for line in scanned.splitlines() if line and not line.startswith("#"))
    if not lines:
        raise StepFailed(f"could not get the host key of {location.host}:{location.port}")
    for line in lines:
        await s.note(f"{TOFU_NOTE}{line}")
    return lines
