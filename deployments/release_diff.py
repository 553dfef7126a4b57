"""The release diff: what a deploy from commit `base` to commit `target` changes, read from a
server's git mirror over SSH (no clone on the panel) and kept per (site, base, target).

The git queries and their parsing are pure (deployments/pipeline/release_diff.py); this module
runs them on the first server of the site whose mirror has both commits, caches the result
(ReleaseDiff) and derives what pages, the plan, the API and notifications show.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from deployments.forge import commit_url
from deployments.models import ReleaseDiff
from deployments.pipeline import release_diff as rd
from deployments.pipeline.context import FULL_SHA
from servers.services import server_ssh_target
from servers.ssh import SSHError, SSHTarget, connect
from sites.models import Site

# One server's whole read (connect, a handful of git commands) must end within this.
DIFF_TIMEOUT_SECONDS = 20.0
# A lock file or migration bigger than this is not read (its change is still listed).
MAX_FILE_BYTES = 4_000_000


class DiffUnavailable(Exception):
    """No server could answer: unreachable, no mirror yet, or a commit it does not have."""


def release_diff(*, site: Site, base: str, target: str) -> dict:
    """The diff from `base` to `target` (full SHAs): cached, else read from a server and kept.

    Raises DiffUnavailable when no server's mirror has both commits (the message says why).
    """
    if not (FULL_SHA.match(base) and FULL_SHA.match(target)):
        raise DiffUnavailable("a release diff needs two exact commits")
    cached = release_diff_cached(site=site, base=base, target=target)
    if cached is not None:
        return cached
    servers = [(server.name, server_ssh_target(server))
               for server in site.servers.select_related("organization").order_by("name", "id")]
    data = asyncio.run(_read_from_servers(servers, site.deploy_path, base, target))
    keep_release_diff(site=site, base=base, target=target, data=data)
    return data


def keep_release_diff(*, site: Site, base: str, target: str, data: dict) -> None:
    """Keep a diff read from a server (once per pair)."""
    try:
        with transaction.atomic():
            ReleaseDiff.objects.create(site=site, base=base, target=target, data=data)
    except IntegrityError:
        pass  # another process read the same pair meanwhile: same commits, same answer


def release_diff_cached(*, site: Site, base: str, target: str) -> dict | None:
    """The kept diff of the pair, None when it was never read."""
    row = ReleaseDiff.objects.filter(site=site, base=base, target=target).first()
    return row.data if row is not None else None


async def _read_from_servers(
    servers: list[tuple[str, SSHTarget]], deploy_path: str, base: str, target: str
) -> dict:
    """The diff from the first server (by name) that can give it."""
    errors = []
    for name, ssh_target in servers:
        try:
            async with asyncio.timeout(DIFF_TIMEOUT_SECONDS):
                return await read_diff(ssh_target, deploy_path, base, target)
        except (SSHError, TimeoutError, DiffUnavailable) as exc:
            errors.append(f"{name}: {str(exc) or type(exc).__name__}")
    raise DiffUnavailable("; ".join(errors) or "the site has no server")


async def read_diff(target_host: SSHTarget, deploy_path: str, base: str, target: str) -> dict:
    """Read the diff on one server's mirror: read-only git commands over one connection."""
    async with await connect(target_host) as conn:
        return await read_diff_over(conn, deploy_path, base, target)


async def read_diff_over(conn, deploy_path: str, base: str, target: str) -> dict:
    """`read_diff` over an open connection (a deploy's own, deployments/worker.py)."""
    repo = deploy_path.rstrip("/") + "/repo"
    reader = _Reader(conn)
    for sha in (base, target):
        if (await reader.text(rd.resolve(repo, sha))).strip() != sha:
            raise DiffUnavailable(f"commit {sha[:12]} is not in the mirror")
    commits, more = rd.parse_log(await reader.lines(rd.log_between(repo, base, target)))
    changed = rd.parse_name_status(await reader.lines(rd.files_between(repo, base, target)))
    paths = {path for _, path in changed}
    packages = {}
    for name in (lock for lock in rd.LOCK_FILES if lock in paths):
        packages[name] = rd.package_changes(await reader.locked(repo, base, name),
                                            await reader.locked(repo, target, name))
    migrations = []
    for path in rd.new_migrations(changed):
        source = await reader.text(rd.show_file(repo, target, path))
        migrations.append({"path": path, "destructive": rd.destructive_operations(source)})
    return {
        "base": base, "target": target,
        "commits": [{"sha": c.sha, "author": c.author, "subject": c.subject} for c in commits],
        "more_commits": more, "file_count": len(changed), "areas": rd.by_area(changed),
        "packages": packages, "migrations": migrations,
    }


class _Reader:
    """Runs one argv, collects stdout (bounded), returns "" for a command that failed."""

    def __init__(self, conn) -> None:
        self.conn = conn

    async def lines(self, argv) -> list[str]:
        out: list[str] = []
        size = 0

        def collect(line) -> None:
            nonlocal size
            size += len(line.text) + 1
            if line.stream == "out" and size <= MAX_FILE_BYTES:
                out.append(line.text)

        result = await self.conn.run(argv, on_line=collect)
        return out if result.exit_status == 0 and size <= MAX_FILE_BYTES else []

    async def text(self, argv) -> str:
        return "\n".join(await self.lines(argv))

    async def locked(self, repo: str, sha: str, lock_file: str) -> dict[str, str]:
        return rd.locked_packages(lock_file, await self.text(rd.show_file(repo, sha, lock_file)))


@dataclass(frozen=True)
class Changes:
    """A release diff with what pages show next to it: forge links, counts, warnings."""

    diff: dict
    env: dict
    repository_url: str = ""

    @property
    def commits(self) -> list[dict]:
        return [{**c, "url": commit_url(self.repository_url, c["sha"])}
                for c in self.diff.get("commits", [])]

    @property
    def migrations(self) -> list[dict]:
        return self.diff.get("migrations", [])

    @property
    def destructive(self) -> list[dict]:
        return [m for m in self.migrations if m["destructive"]]

    @property
    def migration_label(self) -> str:
        """`2 migrations, 1 destructive` ("" when the release adds none)."""
        return migration_label(self.diff)

    @property
    def packages(self) -> dict:
        return self.diff.get("packages", {})

    def summary(self) -> dict:
        """Counts for notifications and the API (names of the env keys, never values)."""
        return summary(self.diff, self.env)


def migration_label(diff: dict) -> str:
    """`2 migrations, 1 destructive`, `1 migration` or ""."""
    migrations = diff.get("migrations", [])
    if not migrations:
        return ""
    label = _count(len(migrations), "migration")
    destructive = sum(1 for m in migrations if m["destructive"])
    return label + (f", {destructive} destructive" if destructive else "")


def summary(diff: dict, env: dict) -> dict:
    """Counts of the diff and the env key changes, and one line of text saying them."""
    packages = {name: {kind: len(items) for kind, items in changes.items()}
                for name, changes in diff.get("packages", {}).items()}
    counts = {
        "commits": len(diff.get("commits", [])), "more_commits": diff.get("more_commits", False),
        "files": diff.get("file_count", 0), "migrations": len(diff.get("migrations", [])),
        "destructive_migrations": sum(1 for m in diff.get("migrations", []) if m["destructive"]),
        "packages": packages, "env": env,
    }
    return {**counts, "text": summary_text(counts)}


def summary_text(counts: dict) -> str:
    """`3 commits, 5 files; composer.lock: 1 added, 2 upgraded; 2 migrations, 1 destructive;
    env: 1 added`."""
    more = "+" if counts["more_commits"] else ""
    parts = [f"{_count(counts['commits'], 'commit')}{more}, {_count(counts['files'], 'file')}"]
    for name, kinds in counts["packages"].items():
        moved = ", ".join(f"{n} {kind}" for kind, n in kinds.items() if n)
        if moved:
            parts.append(f"{name}: {moved}")
    if counts["migrations"]:
        destructive = counts["destructive_migrations"]
        parts.append(_count(counts["migrations"], "migration")
                     + (f", {destructive} destructive" if destructive else ""))
    env = ", ".join(f"{len(names)} {kind}" for kind, names in counts["env"].items() if names)
    if env:
        parts.append(f"env: {env}")
    return "; ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def deployment_changes(deployment, *, read: bool = True) -> tuple[Changes | None, str]:
    """What `deployment` changes (Changes, "") or why that is unknown (None, reason).

    A deploy: from what was live when it started to its commit. A rollback: the diff the other
    way (from the release it went back to up to what was live), so its migrations are the ones
    the database keeps. `read` False: only a kept diff, no SSH.
    """
    base, target = deployment.base_commit, deployment.commit_sha
    if deployment.kind == "rollback":
        base, target = target, base
    env = deployment.env_changes or {}
    if not (FULL_SHA.match(base or "") and FULL_SHA.match(target or "")):
        return None, "no live commit to compare with" if not base else "no exact commit yet"
    if base == target:
        return Changes({}, env, deployment.site.repository_url), ""
    try:
        diff = (release_diff(site=deployment.site, base=base, target=target) if read
                else release_diff_cached(site=deployment.site, base=base, target=target))
    except DiffUnavailable as exc:
        return None, str(exc)
    if diff is None:
        return None, "not read yet"
    return Changes(diff, env, deployment.site.repository_url), ""


def kept_migrations(*, site: Site, commits: dict[str, str], live: str) -> dict[str, list[str]]:
    """Release -> the migrations a rollback to it leaves applied (they ran after its commit up
    to the `live` one), from kept diffs only: one query, no SSH. A release whose diff was never
    read is left out (its rollback's page reads it)."""
    if not FULL_SHA.match(live or ""):
        return {}
    rows = ReleaseDiff.objects.filter(site=site, target=live, base__in=set(commits.values()))
    by_base = {row.base: [m["path"] for m in row.data.get("migrations", [])] for row in rows}
    return {release: by_base[commit] for release, commit in commits.items()
            if by_base.get(commit)}
