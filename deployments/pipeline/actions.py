"""The two things a builder can ask a server to do: run an argv command, or upload a file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

Argv = tuple[str, ...]


@dataclass(frozen=True)
class Command:
    """One remote command as an argv list (quoted only by servers.shell when it is sent).

    `when`: argv checks run first (silently); if one exits non-zero the command is
    skipped. This keeps "only if composer.json exists" decisions on the server,
    where the files are, while the builders stay pure.
    `fail_message`: what the step reports if the command fails (a refusal, not a crash).
    `stdin`: bytes fed to the command (how secrets reach the server: never in an argv).
    `label`: shown in the log instead of the argv (for a constant script whose
    arguments would otherwise be cut off); the argv is still what runs.
    `fence`: run it only under the site's server lock (lock.ACQUIRE or lock.CHECK).
    `retry`: safe to run again after a lost connection (over a new one), e.g. the switch
    back or removing a release; others fail the step when the connection drops.
    `untagged`: not marked as part of the deployment's run (the command that stops the
    run must not stop itself).
    `as_server_user`: run as the server's SSH user even when the site has its own unix user
    (ServerSpec.run_as): reloading PHP-FPM needs the server's rights.
    `as_root`: run as root, through `sudo -n` when the server's user is not root
    (ServerSpec.root_prefix): the process manager's files and socket are root's, and so are
    the /proc entries of the site user's workers.
    """

    argv: Argv
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    when: tuple[Argv, ...] = ()
    fail_message: str = ""
    stdin: bytes = field(default=b"", repr=False)  # may be a secret: never in reprs or logs
    label: str = ""
    fence: str = ""
    retry: bool = False
    untagged: bool = False
    as_server_user: bool = False
    as_root: bool = False


@dataclass(frozen=True)
class Upload:
    """Write `data` to `path` atomically (temp file, chmod `mode`, rename)."""

    path: str
    data: bytes = field(repr=False)  # may be a secret (.env, deploy key): never in reprs or logs
    mode: int = 0o644
    # SFTP (temp + posix-rename); otherwise the file rides on one command's stdin, saving a
    # subsystem start, and can be fenced (see Command.fence) in that same command.
    sftp: bool = False
    fence: str = ""


Action = Command | Upload
