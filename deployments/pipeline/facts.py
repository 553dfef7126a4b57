"""What a server's site layout looks like before a deploy touches it.

Gathered once per server at the start of `prepare`, in ONE command (each round
trip costs 3-25 ms); builders then decide with plain data.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass

from deployments.pipeline.actions import Command
from deployments.pipeline.context import (
    DEFAULT_DEPLOY_ROOTS,
    RELEASE_NAME,
    DeployContext,
    Paths,
)
from deployments.pipeline.lock import ACQUIRE
from deployments.pipeline.scripts import script


@dataclass(frozen=True)
class ServerFacts:
    """The site's state on one server; `logged_releases` None means no releases.log yet."""

    current_target: str | None = None  # `readlink current`; None when it is not a symlink
    current_is_directory: bool = False  # `current` is a real directory (refuse to deploy)
    free_kb: int | None = None
    has_mirror: bool = False
    releases: tuple[str, ...] = ()
    logged_releases: tuple[str, ...] | None = None
    # Releases Deploynix created here (.deploynix/created): with the logged ones, all it owns.
    created_releases: tuple[str, ...] = ()

    @property
    def current_release(self) -> str | None:
        """Name of the live release if `current` points at releases/<14 digits>."""
        if self.current_target is None:
            return None
        head, name = posixpath.split(self.current_target.rstrip("/"))
        if RELEASE_NAME.match(name) and posixpath.basename(head) == "releases":
            return name
        return None


# Creates the layout, reports every fact and creates the release where it may: see the script.
PROBE_SCRIPT = script("probe.sh")


GUARD_SCRIPT = script("guard.sh")


def guard(ctx: DeployContext, roots: tuple[str, ...] = DEFAULT_DEPLOY_ROOTS) -> Command:
    """One command that changes nothing (no lock, no pid file): may the deploy path hold a
    site on this server? Inside `roots` (symlinks resolved), not hidden, not someone else's
    non-empty directory. Its output is read by `guard_refusal`."""
    paths = Paths.of(ctx)
    argv = ("sh", "-c", GUARD_SCRIPT, "sh", paths.deploy, paths.state, *roots)
    return Command(argv, label=f"check that {paths.deploy} may hold a site here "
                   f"(allowed roots: {' '.join(roots)})", untagged=True)


def guard_refusal(lines: list[str]) -> str:
    """Why the server refuses the deploy path ("" when guard.sh accepted it)."""
    if "accepted" in lines:
        return ""
    refused = [line.partition(" ")[2] for line in lines if line.startswith("refused ")]
    return refused[0] if refused else "the server did not confirm the deploy path"


def probe(ctx: DeployContext) -> Command:
    """One command: create releases/, shared/, .deploynix/ (0700, marked as ours), report
    every fact, and create the release where it may be (reported as "created 1", see
    `created`; recorded in .deploynix/created)."""
    paths = Paths.of(ctx)
    argv = (
        "sh", "-c", PROBE_SCRIPT, "sh", paths.deploy, paths.releases, paths.shared,
        paths.state, paths.current, paths.repo, paths.releases_log, paths.release,
        str(ctx.min_free_mb * 1024), paths.created_log,
    )  # fmt: skip
    return Command(argv, label=f"inspect {paths.deploy} (layout, current, disk, releases)",
                   fence=ACQUIRE)


def created(lines: list[str]) -> bool:
    """Whether PROBE_SCRIPT created the release directory."""
    return "created 1" in lines


def parse_probe(lines: list[str]) -> ServerFacts:
    """ServerFacts from PROBE_SCRIPT's output (unknown lines are ignored)."""
    seen: dict[str, list[str]] = {}
    for line in lines:
        key, _, value = line.partition(" ")
        seen.setdefault(key, []).append(value)
    link = "link" in seen
    return ServerFacts(
        current_target=seen.get("target", [None])[0] if link else None,
        current_is_directory="directory" in seen,
        free_kb=parse_df("\n".join(seen.get("df", []))),
        has_mirror="mirror" in seen,
        releases=parse_release_names("\n".join(seen.get("release", []))),
        logged_releases=(
            parse_releases_log("\n".join(seen.get("log", []))) if "log-exists" in seen else None
        ),
        created_releases=parse_release_names("\n".join(seen.get("ours", []))),
    )


def parse_df(text: str) -> int:
    """Available KiB from `df -Pk` output (second line, fourth column)."""
    lines = text.strip().splitlines()
    if len(lines) < 2:
        raise ValueError(f"unexpected df output: {text!r}")
    return int(lines[-1].split()[3])


def parse_release_names(text: str) -> tuple[str, ...]:
    """Names that look like releases (14 digits), sorted oldest first."""
    return tuple(sorted(name for name in text.split("\n") if RELEASE_NAME.match(name)))


def parse_releases_log(text: str) -> tuple[str, ...]:
    """Release names recorded as successful in releases.log (JSON lines); junk is skipped."""
    names = []
    for line in text.splitlines():
        try:
            name = json.loads(line).get("release", "")
        except (ValueError, AttributeError):
            continue
        if isinstance(name, str) and RELEASE_NAME.match(name):
            names.append(name)
    return tuple(names)
