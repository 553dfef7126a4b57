"""One server during one deployment: its connection, its facts, and how actions run on it.

Every output line of every command goes to the sink as it arrives, tagged with
the server's name, except the stdout of `report` commands (machine-readable data
for the pipeline: facts, the resolved commit); the pipeline's own notes (the
command about to run) go as stream 'info'. A failing command raises StepFailed
carrying its last lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import secrets
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol

import asyncssh

from deployments.pipeline import lock
from deployments.pipeline.actions import Action, Argv, Command, Upload
from deployments.pipeline.context import DeployContext, Paths, ServerSpec, Sink
from deployments.pipeline.facts import ServerFacts
from deployments.pipeline.git import RELEASE_FILES
from deployments.pipeline.rolling import Rollout
from deployments.pipeline.scripts import script
from servers.shell import join
from servers.ssh import ConnectionLost, OutputLine, RemoteConnection, SSHError, connect
from servers.ssh.job import OnBytes, Stdin

LAST_LINES = 20
# Printed instead of running a command whose `when` checks failed.
SKIPPED_MARKER = "__deploynix_skipped__"
SHOWN_COMMAND_CHARS = 300
# After a lost connection a retryable command gets this many more tries, each after the
# pause given (with the reconnect's own timeout, about 30 s in all); see Command.retry.
RECONNECT_PAUSES = (0.5, 2.0, 5.0)
# Uploads go through a command's stdin rather than SFTP: no subsystem to start, one
# round trip; the script writes the file atomically.
WRITE_ATOMICALLY = script("write_atomically.sh")
GUARDED = script("guarded.sh")


class StepFailed(Exception):
    """A step cannot go on; `message` is for people, `exit_code` when a command failed."""

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class LostConnection(StepFailed):
    """The connection died under a command that is not safe to repeat: it may still run."""


class FencedOff(StepFailed):
    """The server's lock names another deployment or a newer epoch: this one must stop and
    change nothing more (see deployments.pipeline.lock)."""


@dataclass
class DeployState:
    """What a server's run learned that later steps (and the failure steps) need."""

    facts: ServerFacts = field(default_factory=ServerFacts)
    created_release: bool = False  # only then may discard_release remove it
    refused: bool = False  # the server refused the deploy path (prepare's guard)
    previous_target: str | None = None  # `readlink current` right before the switch
    switched: bool = False  # `current` points (or may point) at this deployment's release
    temp_dirs: list[str] = field(default_factory=list)
    workers_restarted: bool = False  # restart_workers moved them: a switch back moves them back
    # Which of git.RELEASE_FILES the extracted release has (until known: all, so nothing
    # is skipped on a guess).
    release_files: frozenset[str] = frozenset(RELEASE_FILES)


class CommitSettler(Protocol):
    """Decides the deployment's one commit across its servers (deployments/pipeline/commit.py
    implements it). A protocol here so that commit.py, which needs sessions, is not needed
    by them: the run hands every session the same settler."""

    async def settle(self, s: ServerSession, described: list[str]) -> str: ...

    def seeded(self, s: ServerSession) -> None: ...

    async def seed_session(self) -> ServerSession: ...


class ServerSession:
    """Runs actions on one server over one connection (opened on first use)."""

    def __init__(
        self, ctx: DeployContext, spec: ServerSpec, sink: Sink, resolver: CommitSettler
    ) -> None:
        self.ctx = ctx
        self.spec = spec
        self.sink = sink
        self.resolver = resolver
        self.state = DeployState()
        self.commit = ""  # the deployment's exact SHA, once fetch_code resolved it
        self.last_lines: deque[str] = deque(maxlen=LAST_LINES)
        self._conn: RemoteConnection | None = None
        self._contacted = False
        # The deployment's state on the load balancer (deployments/pipeline/rolling.py), shared
        # by every session of the run; None when the site has no balancer.
        self.rollout: Rollout | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def connected(self) -> bool:
        """Whether this run reached the server at least once (so it may need undoing there)."""
        return self._contacted

    async def connection(self) -> RemoteConnection:
        """The connection this server gets for the deployment (a new one if it was lost)."""
        if self._conn is not None and self._conn.closed:
            await self._forget_connection()
        if self._conn is None:
            self._conn = await connect(self.spec.target)
            if self._contacted:
                await self.note("connection lost; reconnected")
            self._contacted = True
        return self._conn

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    async def _forget_connection(self) -> None:
        """Drop a connection that failed under a command: the next command reconnects."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.close(), 5)
            self._conn = None

    async def perform(self, actions: Iterable[Action]) -> int:
        """Run each action in order; return how many ran (skipped `when` commands don't count)."""
        ran = 0
        for action in actions:
            if isinstance(action, Upload):
                await self.upload(action)
                ran += 1
            elif await self.run(action):
                ran += 1
        return ran

    async def run(self, command: Command) -> bool:
        """Run one command, streaming its output; StepFailed if it exits non-zero.

        False when its `when` checks did not all hold (checked in the same round trip,
        on the server, right before the command would start).
        """
        await self.note(f"$ {_shown(command)}")
        skipped: list[bool] = []
        status = await self._exec(command if command.fence else _guarded(command), stream=True,
                                  skipped=skipped)
        if status != 0:
            raise _failure(command, status)
        if skipped:
            conditions = _shorter(_conditions(command))
            await self.note(f"skipped ({conditions} is false): {_shown(command)}")
        return not skipped

    async def report(self, command: Command, into: list[str] | None = None) -> list[str]:
        """Run a command whose stdout is data: stdout lines are returned, stderr is logged.

        `into` (if given) receives the stdout lines as they arrive, so a caller still
        has them when the command fails or is cancelled half-way.
        """
        await self.note(f"$ {_shown(command)}")
        lines = into if into is not None else []
        status = await self._exec(command, stream=True, into=lines, quiet_stdout=True)
        if status != 0:
            raise _failure(command, status)
        return lines

    async def pipe(
        self, command: Command, *, stdin: Stdin = None, on_bytes: OnBytes | None = None
    ) -> list[str]:
        """Run one end of a pipe between servers (deployments/pipeline/seed.py): `stdin` chunks
        stream in, or stdout is data for `on_bytes`; else like report. Never retried: a
        stream cannot be replayed over a new connection."""
        await self.note(f"$ {_shown(command)}")
        lines: list[str] = []
        status = await self._exec(replace(command, retry=False), stream=True, into=lines,
                                  quiet_stdout=True, stdin=stdin, on_bytes=on_bytes)
        if status != 0:
            raise _failure(command, status)
        return lines

    async def capture(self, argv: Argv, *, required: bool = True) -> str | None:
        """Run `argv` silently, return its stdout; on failure None, or StepFailed if `required`."""
        lines: list[str] = []
        status = await self._exec(Command(argv), stream=False, into=lines)
        if status != 0:
            if required:
                raise _failure(Command(argv), status)
            return None
        return "\n".join(lines)

    async def upload(self, upload: Upload) -> None:
        """Write a file atomically (SFTP, or one command's stdin); the note never shows content."""
        await self.note(f"upload {upload.path} ({len(upload.data)} bytes, mode {upload.mode:04o})")
        if upload.sftp:
            try:
                await (await self.connection()).upload(upload.path, upload.data, mode=upload.mode)
            except (OSError, SSHError, asyncssh.Error) as exc:  # SFTPError is an asyncssh.Error
                raise StepFailed(f"upload of {upload.path} failed: {exc}") from exc
            return
        directory, name = posixpath.split(upload.path)
        temp = posixpath.join(directory, f".{name}.deploynix-{secrets.token_hex(6)}.tmp")
        argv = ("sh", "-c", WRITE_ATOMICALLY, "sh", temp, upload.path, f"{upload.mode:04o}")
        write = Command(argv, stdin=upload.data, fence=upload.fence)
        status = await self._exec(write, stream=False)
        if status != 0:
            raise StepFailed(f"upload of {upload.path} failed (exit {status})", status)

    async def read_file(self, path: str) -> str:
        """The remote file's text (StepFailed if unreadable)."""
        text = await self.capture(("cat", "--", path), required=False)
        if text is None:
            raise StepFailed(f"reading {path} failed")
        return text

    async def note(self, text: str) -> None:
        """An 'info' line from the pipeline itself."""
        await self.sink.line(self.name, "info", text, time.time())

    async def _exec(
        self,
        command: Command,
        *,
        stream: bool,
        into: list[str] | None = None,
        quiet_stdout: bool = False,
        skipped: list[bool] | None = None,
        stdin: Stdin = None,
        on_bytes: OnBytes | None = None,
    ) -> int:
        async def on_line(line: OutputLine) -> None:
            if skipped is not None and line.stream == "out" and line.text == SKIPPED_MARKER:
                skipped.append(True)
                return
            if into is not None and line.stream == "out":
                into.append(line.text)
                if quiet_stdout:
                    return
            if line.stream == "err" or stream:
                # Even a silent command's stderr explains its failure in the step's error.
                self.last_lines.append(line.text)
            if stream:
                await self.sink.line(self.name, line.stream, line.text, line.ts)

        command = self._fenced(command)
        for pause in (None, *(RECONNECT_PAUSES if command.retry else ())):
            if pause is not None:
                await self.note(f"connection lost; retrying in {pause:g} s")
                await asyncio.sleep(pause)
            try:
                status = await self._exec_once(command, on_line, stdin, on_bytes)
            except (SSHError, OSError) as exc:
                if not command.retry:
                    if isinstance(exc, ConnectionLost):
                        raise LostConnection(str(exc)) from exc
                    raise StepFailed(str(exc)) from exc
                lost = exc  # a retryable command: run it again over a new connection
                await self._forget_connection()
                continue
            if status == lock.FENCED:
                raise FencedOff("the server's lock belongs to another deployment now: "
                                "this one was taken over and changes nothing more", status)
            return status
        raise LostConnection(f"connection lost, gave up after {len(RECONNECT_PAUSES)} retries: "
                             f"{lost}") from lost

    async def _exec_once(
        self, command: Command, on_line, stdin: Stdin = None, on_bytes: OnBytes | None = None
    ) -> int:
        tagged = not command.untagged
        own = command.as_server_user or command.as_root  # not switched to the site's user
        # The server's user cannot write in a site user's directories (sudo -n -u): a command
        # run as the server's user or root there (short: a reload, supervisorctl) leaves no
        # pid file, which the site's user could not use to stop it anyway.
        recorded = tagged and not (own and self.spec.run_as)
        argv = (*self.spec.root_prefix, *command.argv) if command.as_root else command.argv
        conn = await self.connection()
        result = await conn.run(
            argv, cwd=command.cwd, env=dict(command.env) or None, on_line=on_line,
            stdin=stdin if stdin is not None else (command.stdin or None), on_bytes=on_bytes,
            tag=lock.run_tag(self.ctx.deployment_id, Paths.of(self.ctx).deploy) if tagged else None,
            pid_dir=Paths.of(self.ctx).run_pids if recorded else None,
            run_as=() if own else self.spec.user_switch,
        )
        return result.exit_status

    def _fenced(self, command: Command) -> Command:
        """The command as it is sent: its `when` checks inside, the lock decision around."""
        if not command.fence:
            return command
        return lock.fenced(_guarded(command), self.ctx, command.fence)


def _guarded(command: Command) -> Command:
    """`command` wrapped so that it runs only if its `when` checks hold (else: the marker)."""
    if not command.when:
        return command
    checks = [word for check in command.when for word in (str(len(check)), *check)]
    argv = ("bash", "-c", GUARDED, "bash", SKIPPED_MARKER, *checks, "--", *command.argv)
    return replace(command, argv=argv, when=())


def _conditions(command: Command) -> str:
    """`check1 && check2`, each check quoted by servers.shell (for the log, never run)."""
    return " && ".join(join(check) for check in command.when)


def _failure(command: Command, status: int) -> StepFailed:
    reason = command.fail_message or f"command exited with {status}: {_shown(command)}"
    return StepFailed(reason, status)


def _shown(command: Command) -> str:
    """The command as a person would type it (or its label), shortened."""
    return _shorter(command.label or join(command.argv))


def _shorter(text: str) -> str:
    if len(text) > SHOWN_COMMAND_CHARS:
        return text[: SHOWN_COMMAND_CHARS - 1] + "…"
    return text
