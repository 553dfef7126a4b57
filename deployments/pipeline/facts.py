"""What a server's site layout looks like before a deploy touches it.

Gathered once per server at the start of `prepare` (a handful of ~3 ms
commands over the open connection); builders then decide with plain data.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass

from deployments.pipeline.actions import Argv
from deployments.pipeline.context import RELEASE_NAME, DeployContext, Paths


@dataclass(frozen=True)
class ServerFacts:
    """The site's state on one server; `logged_releases` None means no releases.log yet."""

    current_target: str | None = None  # `readlink current`; None when it is not a symlink
    current_is_directory: bool = False  # `current` is a real directory (refuse to deploy)
    free_kb: int | None = None
    has_mirror: bool = False
    releases: tuple[str, ...] = ()
    logged_releases: tuple[str, ...] | None = None

    @property
    def current_release(self) -> str | None:
        """Name of the live release if `current` points at releases/<14 digits>."""
        if self.current_target is None:
            return None
        head, name = posixpath.split(self.current_target.rstrip("/"))
        if RELEASE_NAME.match(name) and posixpath.basename(head) == "releases":
            return name
        return None


def read_current(ctx: DeployContext) -> Argv:
    """Print where `current` points (fails when it is missing or not a symlink)."""
    return ("readlink", "--", Paths.of(ctx).current)


def current_is_symlink(ctx: DeployContext) -> Argv:
    """True when `current` is a symlink (even a dangling one)."""
    return ("test", "-L", Paths.of(ctx).current)


def current_is_directory(ctx: DeployContext) -> Argv:
    """True for a directory or a symlink to one; combine with current_is_symlink."""
    return ("test", "-d", Paths.of(ctx).current)


def disk_free(ctx: DeployContext) -> Argv:
    """POSIX df output (1 KiB blocks) for the filesystem holding the site."""
    return ("df", "-Pk", "--", Paths.of(ctx).deploy)


def mirror_exists(ctx: DeployContext) -> Argv:
    """True once repo/ holds a bare mirror (a half-cloned leftover has no HEAD)."""
    return ("test", "-f", posixpath.join(Paths.of(ctx).repo, "HEAD"))


def list_releases(ctx: DeployContext) -> Argv:
    """Print the name of every directory in releases/, one per line."""
    releases = Paths.of(ctx).releases
    return ("find", releases, "-mindepth", "1", "-maxdepth", "1", "-type", "d", "-printf", "%f\\n")


def read_releases_log(ctx: DeployContext) -> Argv:
    """Print .deploynix/releases.log (fails when there is none yet)."""
    return ("cat", "--", Paths.of(ctx).releases_log)


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
