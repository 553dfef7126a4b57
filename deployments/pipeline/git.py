"""Builders for everything git: the hardened git argv, credentials, mirror, commit, archive.

Every git call carries GIT_SAFETY: only ssh and https transports (so `ext::`,
`file://` and local paths are refused by git itself), no hooks, no credential
helper that could store an HTTPS token. User values (URL, branch) are always
single argv elements, after `--` where git accepts it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from deployments.pipeline.actions import Action, Argv, Command, Upload
from deployments.pipeline.context import DeployContext, Paths
from servers.shell import join

GIT_SAFETY: Argv = (
    "-c", "protocol.allow=never",
    "-c", "protocol.ssh.allow=always",
    "-c", "protocol.https.allow=always",
    "-c", "core.hooksPath=/dev/null",
    "-c", "credential.helper=",
)  # fmt: skip

# GIT_ASKPASS is asked for a username, then a password: the token answers the
# password. The script is constant; the token sits beside it in a 0600 file, so
# it is never in an argv, an environment variable or a log line.
ASKPASS_SCRIPT = b"""#!/bin/sh
case "$1" in
  Username*) echo x-access-token ;;
  *) cat "$(dirname "$0")/token" ;;
esac
"""
_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?!//)")
_REMOTE_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")  # git's <transport>::<address>


@dataclass(frozen=True)
class RepositoryLocation:
    """How git will reach the repository: 'ssh', 'https' or 'other' (refused by GIT_SAFETY)."""

    transport: str
    host: str = ""
    port: int = 22


def locate(url: str) -> RepositoryLocation:
    """Classify `url` like git does: ssh://, scp-like user@host:path, https://, or other."""
    if _REMOTE_HELPER.match(url):
        return RepositoryLocation("other")
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme in ("ssh", "git+ssh", "ssh+git"):
            return RepositoryLocation("ssh", parts.hostname or "", parts.port or 22)
        if parts.scheme == "https":
            return RepositoryLocation("https", parts.hostname or "", parts.port or 443)
        return RepositoryLocation("other")
    match = _SCP_LIKE.match(url)
    if match:
        return RepositoryLocation("ssh", match["host"])
    return RepositoryLocation("other")


def git(*args: str, repo: str | None = None) -> Argv:
    """`git [-C repo] <GIT_SAFETY> args…` as argv."""
    location = ("-C", repo) if repo is not None else ()
    return ("git", *location, *GIT_SAFETY, *args)


def make_temp_dir(ctx: DeployContext) -> Argv:
    """A private (0700) directory for this deployment's credentials, under .deploynix/."""
    return ("mktemp", "-d", "-p", Paths.of(ctx).state, "git.XXXXXXXXXX")


def remove_temp_dir(temp: str) -> list[Command]:
    """Remove the credentials directory (the deploy key must not outlive the fetch)."""
    return [Command(("rm", "-rf", "--", temp))]


def keyscan(location: RepositoryLocation) -> Argv:
    """Ask the repository host for its keys (trust on first use when none are pinned)."""
    if not location.host or location.host.startswith("-"):
        raise ValueError(f"refusing to scan repository host {location.host!r}")
    return ("ssh-keyscan", "-p", str(location.port), "--", location.host)


def credential_files(ctx: DeployContext, temp: str, known_hosts: tuple[str, ...]) -> list[Upload]:
    """The deploy key, pinned known_hosts, askpass helper and token files for `ctx`."""
    files = []
    if ctx.deploy_key:
        key = ctx.deploy_key if ctx.deploy_key.endswith("\n") else ctx.deploy_key + "\n"
        files.append(Upload(posixpath.join(temp, "deploy_key"), key.encode(), 0o600))
    if known_hosts:
        text = "".join(f"{line.strip()}\n" for line in known_hosts)
        files.append(Upload(posixpath.join(temp, "known_hosts"), text.encode(), 0o600))
    if ctx.https_token:
        files.append(Upload(posixpath.join(temp, "askpass"), ASKPASS_SCRIPT, 0o700))
        files.append(Upload(posixpath.join(temp, "token"), ctx.https_token.encode(), 0o600))
    return files


def git_env(ctx: DeployContext, temp: str) -> dict[str, str]:
    """Environment for the fetching git commands only: pinned ssh, askpass, never a prompt."""
    env = {"GIT_TERMINAL_PROMPT": "0"}
    ssh = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]
    ssh += ["-o", f"UserKnownHostsFile={_ssh_quoted(posixpath.join(temp, 'known_hosts'))}"]
    if ctx.deploy_key:
        ssh += ["-i", posixpath.join(temp, "deploy_key"), "-o", "IdentitiesOnly=yes"]
    env["GIT_SSH_COMMAND"] = join(ssh)
    if ctx.https_token:
        env["GIT_ASKPASS"] = posixpath.join(temp, "askpass")
    return env


def update_mirror(ctx: DeployContext, has_mirror: bool, env: dict[str, str]) -> list[Command]:
    """Clone the bare mirror the first time; afterwards fetch into it (pruning), same URL given."""
    repo, url = Paths.of(ctx).repo, ctx.repository_url
    if has_mirror:
        # The URL is passed explicitly so a site whose repository changed fetches the new one.
        fetch = git("fetch", "--prune", "--force", "--", url, "+refs/*:refs/*", repo=repo)
        return [Command(fetch, env=env)]
    return [
        Command(("rm", "-rf", "--", repo)),  # a half-cloned leftover would block the clone
        Command(git("clone", "--mirror", "--", url, repo), env=env),
    ]


def resolve_commit(ctx: DeployContext) -> Argv:
    """Print the full SHA of ctx.commit (verified to exist) or of the branch head."""
    ref = ctx.commit or f"refs/heads/{ctx.branch}"
    return git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", repo=Paths.of(ctx).repo)


def describe_commit(ctx: DeployContext, sha: str) -> Argv:
    """Print three lines: sha, author, subject."""
    fmt = "--format=%H%n%an <%ae>%n%s"
    return git("log", "-1", fmt, sha, "--", repo=Paths.of(ctx).repo)


def extract_release(ctx: DeployContext, sha: str) -> list[Action]:
    """Unpack exactly `sha` into the release directory and record it in REVISION."""
    paths = Paths.of(ctx)
    archive = git("archive", "--format=tar", sha, repo=paths.repo)
    untar = ("tar", "-x", "-f", "-", "-C", paths.release)
    pipeline = f"{join(archive)} | {join(untar)}"
    return [
        Command(("bash", "-o", "pipefail", "-c", pipeline)),
        Upload(posixpath.join(paths.release, "REVISION"), sha.encode()),
    ]


def _ssh_quoted(path: str) -> str:
    """An ssh -o value: double quotes keep a path with spaces one argument."""
    if '"' in path:
        raise ValueError(f"path not usable in an ssh option: {path!r}")
    return f'"{path}"'
