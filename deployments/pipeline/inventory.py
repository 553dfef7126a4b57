"""What is live and on disk for one site on one server: the truth the panel reconciles with.

One read-only command per server (one round trip): where `current` points, every
`releases/<14 digits>` with its REVISION, and the names in `.deploynix/releases.log`.
Plain data, no Django: deployments/reconcile.py runs it and stores the result.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from deployments.pipeline.actions import Command
from deployments.pipeline.context import RELEASE_NAME
from deployments.pipeline.facts import parse_releases_log
from deployments.pipeline.scripts import script
from servers.ssh import SSHError

# REVISION holds the commit the release was built from (deployments/pipeline/git.py writes
# it with printf, no newline); SHA-1 or SHA-256 object names.
COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")

# Read-only: current, every release with its REVISION, releases.log (see the script).
INVENTORY_SCRIPT = script("inventory.sh")


@dataclass(frozen=True)
class ReleaseOnDisk:
    """`releases/<name>`; `commit` None when it has no (valid) REVISION: not a finished build."""

    name: str
    commit: str | None = None


@dataclass(frozen=True)
class Inventory:
    """One server's truth about one site.

    `current_target` is `readlink current` (None when `current` is missing or not a symlink);
    `logged_releases` None means there is no releases.log yet.
    """

    current_target: str | None = None
    current_is_link: bool = False
    current_exists: bool = False  # something (link or not) is at `current`
    current_dangling: bool = False  # a symlink whose target is gone
    releases: tuple[ReleaseOnDisk, ...] = ()
    logged_releases: tuple[str, ...] | None = None

    @property
    def current_release(self) -> str | None:
        """Name of the live release if `current` is a link to releases/<14 digits> that exists."""
        if self.current_target is None or self.current_dangling:
            return None
        head, name = posixpath.split(self.current_target.rstrip("/"))
        if RELEASE_NAME.match(name) and posixpath.basename(head) == "releases":
            return name
        return None

    @property
    def release_names(self) -> tuple[str, ...]:
        return tuple(release.name for release in self.releases)

    def commit_of(self, name: str) -> str | None:
        """The REVISION of releases/<name>, None when absent or the release is not here."""
        return next((r.commit for r in self.releases if r.name == name), None)


def inventory(deploy_path: str) -> Command:
    """The read-only command that reports `deploy_path`'s current, releases and releases.log."""
    deploy = posixpath.normpath(deploy_path)
    argv = (
        "sh", "-c", INVENTORY_SCRIPT, "sh", posixpath.join(deploy, "current"),
        posixpath.join(deploy, "releases"), posixpath.join(deploy, ".deploynix", "releases.log"),
    )  # fmt: skip
    return Command(argv, label=f"inventory of {deploy} (current, releases, REVISION)")


class InventoryFailed(SSHError):
    """The inventory command ran but did not succeed."""


async def read_inventory(conn, deploy_path: str) -> Inventory:
    """Run the inventory command over an open connection (servers.ssh RemoteConnection).
    Raises SSHError (the connection, or the command failing)."""
    out: list[str] = []
    err: list[str] = []

    def collect(line) -> None:
        (out if line.stream == "out" else err).append(line.text)

    result = await conn.run(inventory(deploy_path).argv, on_line=collect)
    if result.exit_status != 0:
        detail = " ".join(err[-3:]) or "no output"
        raise InventoryFailed(f"inventory exited with {result.exit_status}: {detail}")
    return parse_inventory(out)


def parse_inventory(lines: list[str]) -> Inventory:
    """Inventory from INVENTORY_SCRIPT's output (unknown lines are ignored)."""
    seen: dict[str, list[str]] = {}
    for line in lines:
        key, _, value = line.partition(" ")
        seen.setdefault(key, []).append(value)
    target = seen.get("current", [None])[0]
    return Inventory(
        current_target=target,
        current_is_link=target is not None,
        current_exists=target is not None or "current-not-link" in seen,
        current_dangling="current-dangling" in seen,
        releases=_releases(seen.get("release", [])),
        logged_releases=(
            parse_releases_log("\n".join(seen.get("log", []))) if "log-exists" in seen else None
        ),
    )


def _releases(values: list[str]) -> tuple[ReleaseOnDisk, ...]:
    found = {}
    for value in values:
        name, _, revision = value.partition(" ")
        if RELEASE_NAME.match(name):
            found[name] = ReleaseOnDisk(name, revision if COMMIT.match(revision) else None)
    return tuple(found[name] for name in sorted(found))
