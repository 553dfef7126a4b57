"""The plan (dry run) of a deploy: what would run on each server, what would change, and the
warnings, without changing anything anywhere.

Each server is asked, over one connection, only read-only questions: the inventory (what is
live, with its REVISION) and which commit the mirror resolves the target to; the first server
is also asked `php artisan migrate:status` in the live release (a Laravel app: the database's
pending migrations), with the file diff as the fallback. Nothing is fetched: the branch head is
the one the mirror saw at its last fetch, and the plan says so.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from django.utils import timezone

from deployments.baseline import site_env_changes
from deployments.context_builder import build_context
from deployments.envkeys import env_changes_text
from deployments.models import Deployment, Kind
from deployments.pipeline import release_diff as rd
from deployments.pipeline.context import FULL_SHA, DeployContext
from deployments.pipeline.facts import ServerFacts
from deployments.pipeline.inventory import Inventory, inventory, parse_inventory
from deployments.pipeline.preview import preview
from deployments.redaction import Redactor
from deployments.release_diff import Changes, DiffUnavailable, release_diff
from servers.ssh import SSHError, connect
from sites.models import Site

READ_TIMEOUT_SECONDS = 20.0
# migrate:status boots the app and asks the database: bounded on its own, inside the read.
MIGRATE_STATUS_TIMEOUT_SECONDS = 10.0
ALREADY_LIVE = "already live"
FROM_STATUS = "migrate:status"
FROM_FILES = "files"


@dataclass(frozen=True)
class MigrateStatus:
    """What `artisan migrate:status` said on the first server: the pending migrations (path
    and destructive operations, read from the live commit in the mirror), or why it was not
    used ("" error: it answered)."""

    server: str
    pending: tuple[dict, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class ServerRead:
    """What one server said: its inventory, the target commit its mirror knows ("" none)."""

    name: str
    inventory: Inventory | None = None
    target: str = ""
    error: str = ""
    status: MigrateStatus | None = None

    @property
    def live_commit(self) -> str:
        live = self.inventory.current_release if self.inventory else None
        return (self.inventory.commit_of(live) or "") if live else ""


@dataclass
class ServerPlan:
    name: str
    live_release: str = ""
    live_commit: str = ""
    error: str = ""
    steps: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class Plan:
    """A deploy's plan; `target` is "" when no server's mirror knows the commit yet."""

    site: Site
    requested: str
    target: str
    base: str
    servers: list[ServerPlan]
    changes: Changes | None = None
    diff_error: str = ""
    warnings: list[str] = field(default_factory=list)
    status: MigrateStatus | None = None

    @property
    def already_live(self) -> bool:
        return bool(self.target) and self.target == self.base

    @property
    def migration_label(self) -> str:
        return self.changes.migration_label if self.changes is not None else ""

    @property
    def destructive(self) -> list[dict]:
        """The migrations the deploy would run that destroy data (they need a confirm)."""
        return self.changes.destructive if self.changes is not None else []

    @property
    def migrations_source(self) -> str:
        """`migrate:status` when the live database was asked, else `files` (the diff)."""
        return FROM_STATUS if self.status is not None and not self.status.error else FROM_FILES

    @property
    def button_label(self) -> str:
        """`Deploy abc1234 — 3 commits, 2 migrations (1 destructive)`, or `Already live`."""
        if self.already_live:
            return "Already live"
        parts = []
        if self.changes is not None and self.base and self.target:
            commits = len(self.changes.commits)
            more = "+" if self.changes.diff.get("more_commits") else ""
            parts.append(f"{commits}{more} commit{'' if commits == 1 else 's'}")
        migrations = len(self.changes.migrations) if self.changes is not None else 0
        if migrations:
            parts.append(f"{migrations} migration{'' if migrations == 1 else 's'}"
                         + (f" ({len(self.destructive)} destructive)" if self.destructive else ""))
        head = f"Deploy {self.target[:7]}" if self.target else "Deploy"
        return f"{head} — {', '.join(parts)}" if parts else head


def site_plan(*, site: Site, commit: str | None = None) -> Plan:
    """The plan of a deploy of `site` (branch head, or exactly `commit`); reads only."""
    requested = (commit or "").strip().lower()
    if requested and not FULL_SHA.match(requested):
        raise ValueError("A commit must be given as its full 40-character SHA.")
    ctx = build_context(_imagined_deployment(site, requested))
    wanted = requested or f"refs/heads/{site.branch}"
    reads = asyncio.run(_read_all(ctx, wanted))
    target = next((read.target for read in reads if read.target), "")
    lives = {read.live_commit for read in reads}
    base = lives.pop() if len(lives) == 1 and all(r.inventory for r in reads) else ""
    plan = Plan(site=site, requested=requested, target=target, base=base, servers=[],
                status=reads[0].status if reads else None)
    redact = Redactor(ctx.secrets)
    for server, read in zip(ctx.servers, reads, strict=True):
        plan.servers.append(_server_plan(ctx, server, read, target, redact))
    _add_changes(plan)
    plan.warnings = _warnings(plan, reads)
    return plan


def _imagined_deployment(site: Site, commit: str) -> Deployment:
    """An unsaved deploy row to build the context from (release: now; never stored)."""
    return Deployment(pk=0, site=site, organization_id=site.organization_id, kind=Kind.DEPLOY,
                      branch=site.branch, commit_sha=commit, force=True,
                      release=timezone.now().strftime("%Y%m%d%H%M%S"))


async def _read_all(ctx: DeployContext, wanted: str) -> list[ServerRead]:
    return list(await asyncio.gather(*(_read(ctx, spec, wanted, first=index == 0)
                                       for index, spec in enumerate(ctx.servers))))


async def _read(ctx: DeployContext, spec, wanted: str, *, first: bool) -> ServerRead:
    """One connection: the inventory, then the commit the mirror resolves `wanted` to, and,
    for a Laravel site, on the first server what migrate:status says in the live release."""
    out: list[str] = []
    resolved: list[str] = []
    repo = ctx.deploy_path.rstrip("/") + "/repo"
    status = None
    try:
        async with asyncio.timeout(READ_TIMEOUT_SECONDS):
            async with await connect(spec.target) as conn:
                await conn.run(inventory(ctx.deploy_path).argv, on_line=_stdout_into(out))
                await conn.run(rd.resolve(repo, wanted), on_line=_stdout_into(resolved))
                found = parse_inventory(out)
                live = ServerRead(spec.name, found).live_commit
                if first and live and ctx.is_laravel:  # artisan is run for Laravel only
                    status = await _migrate_status(conn, ctx, spec, repo, live)
    except (SSHError, TimeoutError) as exc:
        return ServerRead(spec.name, error=str(exc) or type(exc).__name__)
    target = resolved[0].strip() if resolved and FULL_SHA.match(resolved[0].strip()) else ""
    return ServerRead(spec.name, found, target, status=status)


async def _migrate_status(conn, ctx: DeployContext, spec, repo: str,
                          live: str) -> MigrateStatus | None:
    """Ask the live release's artisan which migrations the database has not run (as the
    site's user, read only, bounded); each pending one's source is read from the mirror at
    the live commit to flag destructive operations. None: no artisan (not Laravel)."""
    current = ctx.deploy_path.rstrip("/") + "/current"
    if (await conn.run(rd.has_artisan(current))).exit_status != 0:
        return None
    lines: list[str] = []
    try:
        result = await conn.run(rd.migrate_status(), cwd=current, run_as=spec.user_switch,
                                timeout=MIGRATE_STATUS_TIMEOUT_SECONDS,
                                on_line=_stdout_into(lines))
    except SSHError as exc:
        return MigrateStatus(spec.name, error=f"migrate:status: {str(exc) or exc.kind}")
    names = rd.parse_migrate_status(lines) if result.exit_status == 0 else None
    if names is None:
        return MigrateStatus(spec.name, error=f"migrate:status failed (exit "
                                              f"{result.exit_status}) or said no status rows")
    pending = []
    for name in names:
        source: list[str] = []
        path = rd.migration_path(name)
        await conn.run(rd.show_file(repo, live, path), on_line=_stdout_into(source))
        pending.append({"path": path,
                        "destructive": rd.destructive_operations("\n".join(source))})
    return MigrateStatus(spec.name, tuple(pending))


def _stdout_into(lines: list[str]):
    def collect(line) -> None:
        if line.stream == "out":
            lines.append(line.text)
    return collect


def _server_plan(ctx, spec, read: ServerRead, target: str, redact) -> ServerPlan:
    if read.inventory is None:
        return ServerPlan(spec.name, error=read.error)
    facts = ServerFacts(current_target=read.inventory.current_target,
                        releases=read.inventory.release_names,
                        logged_releases=read.inventory.logged_releases)
    steps = preview(ctx, spec, facts, target or "<commit>")
    return ServerPlan(
        spec.name, read.inventory.current_release or "", read.live_commit,
        steps=[(step, [redact(text) for text in texts]) for step, texts in steps],
    )


def _add_changes(plan: Plan) -> None:
    env = site_env_changes(plan.site)
    if not (plan.base and plan.target) or plan.already_live:
        plan.changes = Changes({}, env, plan.site.repository_url)
        return
    try:
        diff = release_diff(site=plan.site, base=plan.base, target=plan.target)
    except DiffUnavailable as exc:
        plan.diff_error = str(exc)
        diff = {}
    if plan.migrations_source == FROM_STATUS:
        diff = {**diff, "migrations": _will_run(plan.status, diff.get("migrations", []))}
    plan.changes = Changes(diff, env, plan.site.repository_url)


def _will_run(status: MigrateStatus, new_files: list[dict]) -> list[dict]:
    """What `artisan migrate` will run: the live database's pending migrations, then the
    release's new files (the live release's artisan cannot know those; they are pending by
    definition). Run order is by name, as artisan runs them."""
    by_path = {m["path"]: m for m in [*status.pending, *new_files]}
    return [by_path[path] for path in sorted(by_path)]


def _warnings(plan: Plan, reads: list[ServerRead]) -> list[str]:
    warnings = [f"{read.name} could not be read: {read.error}" for read in reads if read.error]
    if not plan.target:
        what = f"commit {plan.requested}" if plan.requested else f"branch {plan.site.branch!r}"
        warnings.append(f"No server's mirror has {what} yet: the deploy fetches it first.")
    elif not plan.requested:
        warnings.append(f"The branch head is the one the mirror saw at its last fetch "
                        f"({plan.target[:12]}); the deploy fetches first and deploys the head "
                        "it finds then.")
    if plan.already_live:
        warnings.append(f"{ALREADY_LIVE}: {plan.target[:12]} is live on every server; the "
                        "deploy is skipped unless forced.")
    if plan.status is not None and plan.status.error and not plan.already_live:
        warnings.append(f"Migrations from the file diff: {plan.status.error} on "
                        f"{plan.status.server}.")
    if plan.changes is not None:
        for migration in plan.changes.destructive:
            warnings.append(f"Destructive migration {migration['path']}: "
                            f"{', '.join(migration['destructive'])}.")
        env = env_changes_text(plan.changes.env)
        if env:
            warnings.append(f"Environment keys since the live release: {env}.")
    return warnings


def destructive_to_confirm(*, site: Site, commit: str | None = None) -> list[dict]:
    """The destructive migrations a deploy of `site` (branch head, or exactly `commit`) would
    run, per its plan: a person or token must confirm them before the deploy is accepted.
    [] when there are none, or when the request is malformed (the deploy refuses it anyway).
    A site whose deploy runs no migrations (not Laravel, or migrations off: see
    deployments/pipeline/commands.py `migrate`) has none to confirm, and its deploy request
    does not wait for a read of its servers."""
    if not (site.preset == Site.Preset.LARAVEL and site.run_migrations):
        return []
    try:
        plan = site_plan(site=site, commit=commit)
    except ValueError:
        return []
    return plan.destructive


def destructive_text(destructive: list[dict]) -> str:
    """`database/migrations/x.php (dropColumn); …` for error messages."""
    return "; ".join(f"{m['path']} ({', '.join(m['destructive'])})" for m in destructive)
