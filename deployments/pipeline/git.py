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

from deployments.pipeline.actions import Argv, Command, Upload
from deployments.pipeline.context import DeployContext, Paths
from deployments.pipeline.scripts import script
from servers.shell import join

GIT_SAFETY: Argv = (
    "-c", "protocol.allow=never",
    "-c", "protocol.ssh.allow=always",
    "-c", "protocol.https.allow=always",
    "-c", "core.hooksPath=/dev/null",
    "-c", "credential.helper=",
)  # fmt: skip

# GIT_ASKPASS answers git's password prompt with the token, which sits beside it in a 0600
# file, so it is never in an argv, an environment variable or a log line.
ASKPASS_SCRIPT = script("askpass.sh").encode()
# The repository host is reached over a fresh OpenSSH connection per deploy. OpenSSH
# 9.2 (Debian 12) opens with sntrup761x25519, which costs ~250 ms per connection on
# these machines; curve25519 alone costs a tenth of that. The control connection
# (asyncssh to a Debian 12 server) negotiates curve25519 too, so the deploy key and
# .env already travel under it. '^' only moves it first: the default set still follows.
FAST_KEX_FIRST = "^curve25519-sha256,curve25519-sha256@libssh.org"
# Three lines: full SHA, author, subject. fetch.sh runs the same `git log` with this format.
DESCRIBE_FORMAT = "%H%n%an <%ae>%n%s"
DESCRIBE: Argv = ("log", "-1", "--no-walk", "--no-show-signature", f"--format={DESCRIBE_FORMAT}")
# Exit status of FETCH_SCRIPT when the branch or commit is not in the repository.
REF_NOT_FOUND = 90
# Exit status of FORWARD_SCRIPT when a forward-only deploy would move the site backwards.
STALE_COMMIT = 91
# How the step's refusal begins; webhooks/receivers.py shows it in the delivery inbox.
STALE_PUSH = "stale push refused:"
# Files whose presence decides whether install/build_assets have anything to do.
RELEASE_FILES = ("composer.json", "package.json")

FETCH_SCRIPT = script("fetch.sh")
FORWARD_SCRIPT = script("forward.sh")
EXTRACT_SCRIPT = script("extract.sh")
RECEIVE_SCRIPT = script("receive.sh")
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
    ssh += ["-o", f"KexAlgorithms={FAST_KEX_FIRST}"]
    if ctx.deploy_key:
        ssh += ["-i", posixpath.join(temp, "deploy_key"), "-o", "IdentitiesOnly=yes"]
    env["GIT_SSH_COMMAND"] = join(ssh)
    if ctx.https_token:
        env["GIT_ASKPASS"] = posixpath.join(temp, "askpass")
    return env


def fetch_and_resolve(
    ctx: DeployContext, temp: str, files: list[Upload], *, has_mirror: bool
) -> Command:
    """ONE command: credentials into `temp` (from stdin), update the mirror, print the commit.

    The credentials directory is removed when the script ends, however it ends (a
    TERM from a cancellation included); if it is killed outright, discard_release
    removes it. Stdout is exactly three lines: full SHA, author, subject of the
    branch head (or of ctx.commit, verified to exist); git's own output goes to stderr.
    A missing branch or commit exits with REF_NOT_FOUND.
    """
    paths = Paths.of(ctx)
    files = [upload for upload in files if upload.data]  # dd cannot read a 0-byte block
    specs: list[str] = []
    for upload in files:
        specs += [posixpath.basename(upload.path), f"{upload.mode:o}", str(len(upload.data))]
    argv = (
        "sh", "-c", FETCH_SCRIPT, "sh", temp, paths.repo, ctx.repository_url, _wanted_ref(ctx),
        "0" if has_mirror else "1", str(REF_NOT_FOUND), DESCRIBE_FORMAT, str(len(files)),
        *specs, *GIT_SAFETY,
    )  # fmt: skip
    stdin = b"".join(upload.data for upload in files)
    label = f"git fetch {ctx.repository_url} into {paths.repo}, resolve {_wanted_ref(ctx)}"
    return Command(argv, env=git_env(ctx, temp), stdin=stdin, label=label)


def forward_check(ctx: DeployContext, sha: str) -> Command:
    """Refuse (exit STALE_COMMIT) unless `sha` is the fetched tip of the branch or a descendant
    of the live commit: a forward-only deploy (a git push) never moves the site backwards."""
    paths = Paths.of(ctx)
    ref = f"refs/heads/{ctx.branch}"
    argv = ("sh", "-c", FORWARD_SCRIPT, "sh", paths.repo, sha, ref, paths.current,
            str(STALE_COMMIT), *GIT_SAFETY)
    return Command(argv, label=f"check {sha[:12]} is the tip of {ref} or descends from the live "
                               "commit")


def describe_commit(ctx: DeployContext, sha: str | None = None) -> Argv:
    """Print three lines: full SHA, author, subject of `sha` (default: ctx.commit or the branch)."""
    ref = f"{sha or _wanted_ref(ctx)}^{{commit}}"
    return git(*DESCRIBE, ref, "--", repo=Paths.of(ctx).repo)


def extract_release(ctx: DeployContext, sha: str) -> Command:
    """Unpack exactly `sha` into the release, write REVISION, list the files that steps need.

    Stdout: one "has <file>" line per RELEASE_FILES entry present in the release.
    """
    paths = Paths.of(ctx)
    argv = (
        "bash", "-c", EXTRACT_SCRIPT, "bash", paths.repo, sha, paths.release,
        str(len(RELEASE_FILES)), *RELEASE_FILES, *GIT_SAFETY,
    )  # fmt: skip
    return Command(argv, label=f"git archive {sha} | tar -x -C {paths.release}")


def archive(ctx: DeployContext, sha: str, receiver: str) -> Command:
    """On the seed: exactly `sha` from its mirror as a tar on stdout, for `receiver`
    (deployments/pipeline/seed.py pipes it into receive_release there)."""
    paths = Paths.of(ctx)
    argv = git("archive", "--format=tar", sha, repo=paths.repo)  # as extract.sh: same bytes
    return Command(argv, label=f"git archive {sha} (streamed to {receiver})")


def receive_release(ctx: DeployContext, sha: str, seed: str) -> Command:
    """On another server: unpack the seed's stream of `sha` into the release, write REVISION,
    list the RELEASE_FILES present (the same stdout as extract_release)."""
    paths = Paths.of(ctx)
    argv = ("bash", "-c", RECEIVE_SCRIPT, "bash", sha, paths.release, *RELEASE_FILES)
    return Command(argv, label=f"tar -x -C {paths.release} < git archive {sha} on {seed}")


def parse_release_files(lines: list[str]) -> frozenset[str]:
    """The RELEASE_FILES that extract_release reported present."""
    return frozenset(line[4:] for line in lines if line.startswith("has "))


def _wanted_ref(ctx: DeployContext) -> str:
    return ctx.commit or f"refs/heads/{ctx.branch}"


def _ssh_quoted(path: str) -> str:
    """An ssh -o value: double quotes keep a path with spaces one argument."""
    if '"' in path:
        raise ValueError(f"path not usable in an ssh option: {path!r}")
    return f'"{path}"'
