"""What changes between two commits, read from a server's git mirror (`repo/`): pure builders
and parsers, no I/O and no Django.

Every query is one read-only git argv on the mirror (git.git adds GIT_SAFETY; servers.shell
quotes it when it is sent); nothing is fetched and nothing is written. The Django side
(deployments/release_diff.py) runs them over SSH and caches the parsed result per pair.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from deployments.pipeline.actions import Argv
from deployments.pipeline.git import git

# Bounds: a release diff is a summary, not a code review.
MAX_COMMITS = 200
MAX_FILES = 2000
MAX_MIGRATIONS = 100
SEP = "\x1f"  # between the fields of one `git log` line (never in a name or subject)
LOG_FORMAT = f"%H{SEP}%an <%ae>{SEP}%s"
LOCK_FILES = ("composer.lock", "package-lock.json")
MIGRATIONS_DIR = "database/migrations/"
# Destructive schema operations, searched in a migration's up() only (a down() that drops
# the table its up() created is ordinary). Name shown -> pattern.
DESTRUCTIVE = (
    ("dropColumn", re.compile(r"->\s*drop(Column|Columns|Morphs|NullableMorphs|Timestamps"
                              r"|TimestampsTz|SoftDeletes|SoftDeletesTz|RememberToken)\s*\(")),
    ("renameColumn", re.compile(r"->\s*renameColumn\s*\(")),
    ("drop table", re.compile(r"Schema\s*::\s*(connection\s*\([^)]*\)\s*->\s*)?"
                              r"drop(IfExists)?\s*\(")),
    ("rename table", re.compile(r"Schema\s*::\s*(connection\s*\([^)]*\)\s*->\s*)?"
                                r"rename(Table)?\s*\(")),
    ("change column type", re.compile(r"->\s*change\s*\(\s*\)")),
)
_UP = re.compile(r"function\s+up\s*\([^)]*\)[^{]*\{")
_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*|#[^\n]*", re.S)
_VERSION_PARTS = re.compile(r"\d+")


@dataclass(frozen=True)
class CommitLine:
    sha: str
    author: str
    subject: str


def resolve(repo: str, ref: str) -> Argv:
    """Print the full SHA `ref` names in the mirror (exit 1, no output, when it names none)."""
    return git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}",
               repo=repo)


def log_between(repo: str, base: str, target: str) -> Argv:
    """The commits in `target` that are not in `base`, newest first (at most MAX_COMMITS + 1)."""
    return git("log", "--no-show-signature", f"--max-count={MAX_COMMITS + 1}",
               f"--format={LOG_FORMAT}", "--end-of-options", f"{base}..{target}", "--", repo=repo)


def files_between(repo: str, base: str, target: str) -> Argv:
    """`<status>\\t<path>` per changed file (renames as delete + add, paths unquoted)."""
    return git("-c", "core.quotePath=false", "diff", "--name-status", "--no-renames",
               "--end-of-options", base, target, "--", repo=repo)


def show_file(repo: str, commit: str, path: str) -> Argv:
    """The content of `path` at `commit` (exits non-zero when it is not there)."""
    return git("show", "--end-of-options", f"{commit}:{path}", repo=repo)


def parse_log(lines: list[str]) -> tuple[list[CommitLine], bool]:
    """Commits from log_between's output, and whether there were more than MAX_COMMITS."""
    commits = []
    for line in lines:
        parts = line.split(SEP)
        if len(parts) == 3 and re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", parts[0]):
            commits.append(CommitLine(*parts))
    return commits[:MAX_COMMITS], len(commits) > MAX_COMMITS


def parse_name_status(lines: list[str]) -> list[tuple[str, str]]:
    """(status letter, path) pairs from files_between's output."""
    changed = []
    for line in lines:
        status, _, path = line.partition("\t")
        if status and path:
            changed.append((status[0], path))
    return changed


def by_area(changed: list[tuple[str, str]]) -> dict[str, list[dict]]:
    """Changed files grouped by top-level directory ("(root)" for files at the top)."""
    areas: dict[str, list[dict]] = {}
    for status, path in changed[:MAX_FILES]:
        area = path.split("/", 1)[0] if "/" in path else "(root)"
        areas.setdefault(area, []).append({"status": status, "path": path})
    return dict(sorted(areas.items()))


def new_migrations(changed: list[tuple[str, str]]) -> list[str]:
    """Migration files the release adds (the ones `artisan migrate` will run), in run order."""
    return sorted(path for status, path in changed
                  if status == "A" and path.startswith(MIGRATIONS_DIR) and path.endswith(".php")
                  and "/" not in path[len(MIGRATIONS_DIR):])[:MAX_MIGRATIONS]


def destructive_operations(source: str) -> list[str]:
    """The destructive operations the migration's up() performs (names, in DESTRUCTIVE order)."""
    body = up_body(_COMMENTS.sub("", source))
    return [name for name, pattern in DESTRUCTIVE if pattern.search(body)]


def up_body(source: str) -> str:
    """The text of the first `function up(...) { ... }` (the whole source when there is none)."""
    match = _UP.search(source)
    if match is None:
        return source
    depth, start = 1, match.end()
    for index in range(start, len(source)):
        depth += {"{": 1, "}": -1}.get(source[index], 0)
        if depth == 0:
            return source[start:index]
    return source[start:]


def locked_packages(name: str, text: str) -> dict[str, str]:
    """package -> version in a composer.lock or package-lock.json ({} when unreadable)."""
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    if name == "composer.lock":
        entries = [*(data.get("packages") or []), *(data.get("packages-dev") or [])]
        return {e["name"]: str(e.get("version", "")) for e in entries
                if isinstance(e, dict) and isinstance(e.get("name"), str)}
    return _npm_packages(data)


def _npm_packages(data: dict) -> dict[str, str]:
    packages = data.get("packages")
    if isinstance(packages, dict):  # lockfileVersion 2 and 3
        return {key.rsplit("node_modules/", 1)[1]: str(value.get("version", ""))
                for key, value in packages.items()
                if key.startswith("node_modules/") and isinstance(value, dict)
                and "node_modules/" not in key[len("node_modules/"):]}
    dependencies = data.get("dependencies")  # lockfileVersion 1
    if isinstance(dependencies, dict):
        return {name: str(value.get("version", "")) for name, value in dependencies.items()
                if isinstance(value, dict)}
    return {}


def package_changes(before: dict[str, str], after: dict[str, str]) -> dict[str, list]:
    """Added, removed, upgraded and downgraded packages between two lock files."""
    changed = sorted(name for name in before.keys() & after.keys() if before[name] != after[name])
    moves = [{"name": n, "from": before[n], "to": after[n]} for n in changed]
    return {
        "added": [{"name": n, "version": after[n]} for n in sorted(after.keys() - before.keys())],
        "removed": [{"name": n, "version": before[n]}
                    for n in sorted(before.keys() - after.keys())],
        "upgraded": [m for m in moves if _version_key(m["to"]) >= _version_key(m["from"])],
        "downgraded": [m for m in moves if _version_key(m["to"]) < _version_key(m["from"])],
    }


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in _VERSION_PARTS.findall(version)[:4])


# `artisan migrate:status`, read on the live release (read only: it lists, never migrates).
MIGRATION_NAME = re.compile(r"[A-Za-z0-9_]{1,200}")
# Laravel 9+: `2024_01_01_000000_create_posts ........ [1] Ran` / `... Pending`.
_STATUS_DOTS = re.compile(r"^\s*(?P<name>\S+)\s+\.+\s+(?:\[\d+\]\s+)?(?P<state>Ran|Pending)\s*$")
# Laravel 8 and older: `| No   | 2024_01_01_000000_create_posts | |` (Ran? first).
_STATUS_TABLE = re.compile(r"^\|\s*(?P<ran>Yes|No|Y|N)\s*\|\s*(?P<name>\S+)\s*\|")


def has_artisan(current: str) -> Argv:
    """Exit 0 when the release `current` points at has an `artisan` file."""
    return ("test", "-f", f"{current.rstrip('/')}/artisan")


def migrate_status() -> Argv:
    """`php artisan migrate:status`, run in the live release (cwd), colourless and unasked."""
    return ("php", "artisan", "migrate:status", "--no-ansi", "--no-interaction")


def parse_migrate_status(lines: list[str]) -> list[str] | None:
    """The pending migrations' names, in run order; None when the output has no status rows
    (not migrate:status-shaped: the caller falls back to the file diff)."""
    pending, rows = [], 0
    for line in lines:
        dots, table = _STATUS_DOTS.match(line), _STATUS_TABLE.match(line)
        if dots is None and table is None:
            continue
        name = (dots or table)["name"]
        if not MIGRATION_NAME.fullmatch(name):
            continue
        rows += 1
        if (dots and dots["state"] == "Pending") or (table and table["ran"] in ("No", "N")):
            pending.append(name)
    return sorted(pending)[:MAX_MIGRATIONS] if rows else None


def migration_path(name: str) -> str:
    """The file of a migration named by migrate:status."""
    return f"{MIGRATIONS_DIR}{name}.php"
