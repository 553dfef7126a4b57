"""One remote command in its own process group: streaming its output, killing it."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import signal
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncssh

from servers.scripts import load
from servers.ssh.errors import ConnectionLost
from servers.ssh.lines import LineSplitter, OutputLine, decode

OnLine = Callable[[OutputLine], Awaitable[None] | None]
# Raw stdout for a command whose output is data (a tar stream), not lines: each chunk as read.
OnBytes = Callable[[bytes], Awaitable[None]]
# What a command reads: fixed bytes, or chunks written as they come (each drained first, so a
# slow reader holds the producer back instead of a buffer growing).
Stdin = bytes | AsyncIterable[bytes] | None

READ_CHUNK = 64 * 1024
PGID_MARKER = b"__deploynix_pgid__="
# Names the run a command belongs to, in its environment; every child inherits it (even
# one that escaped the process group with setsid), so a later kill can find them all.
RUN_TAG_VARIABLE = "DEPLOYNIX_RUN"
# Where scripts/run_in_group.sh records the group's pid file (the script names it too).
PID_DIR_VARIABLE = "DEPLOYNIX_PIDS"
# The wrapper that makes each command its own process group and announces the group id.
# Killing "-PGID" then reaches everything the command started, not just its shell.
RUN_IN_GROUP = load("servers.ssh.scripts", "run_in_group.sh")


@dataclass(frozen=True)
class CommandResult:
    """How a remote command ended; a signal N is reported like a shell does, as 128 + N."""

    exit_status: int


def in_own_process_group(argv: Sequence[str]) -> list[str]:
    """Wrap `argv` so it runs as its own process group and reports the group id first.

    Pass `run_environment(...)` as the command's environment to tag it and record its pid file.
    """
    return ["setsid", "-w", "sh", "-c", RUN_IN_GROUP, "sh", PGID_MARKER.decode(), *argv]


def run_environment(tag: str | None, pid_dir: str | None) -> dict[str, str]:
    """The variables that tag a command with its run and record its process group."""
    env = {}
    if tag:
        env[RUN_TAG_VARIABLE] = tag
    if pid_dir:
        env[PID_DIR_VARIABLE] = pid_dir
    return env


class RemoteJob:
    """Drive one started asyncssh process: feed stdin, stream lines, learn the group id."""

    def __init__(
        self,
        process: asyncssh.SSHClientProcess[bytes],
        on_line: OnLine | None,
        on_bytes: OnBytes | None = None,
    ) -> None:
        self._process = process
        self._on_line = on_line
        self._on_bytes = on_bytes  # set: stdout is raw data, only the pgid line is taken off
        self.pgid: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, stdin: Stdin) -> None:
        """Start the stdin writer and both readers as tasks (they outlive a cancelled caller)."""
        self._tasks = [
            asyncio.create_task(self._write_stdin(stdin)),
            asyncio.create_task(
                self._read_raw(self._process.stdout) if self._on_bytes is not None
                else self._read(self._process.stdout, "out")
            ),
            asyncio.create_task(self._read(self._process.stderr, "err")),
        ]

    async def finish(self) -> CommandResult:
        """Wait for all output and the exit status; a failing `on_line` fails the job."""
        done, _pending = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()
        await self._process.wait_closed()
        return CommandResult(self._exit_status())

    async def wait_readers(self, timeout: float) -> bool:
        """Wait up to `timeout` for the remote side to close both output streams."""
        _done, pending = await asyncio.wait(self._tasks[1:], timeout=timeout)
        return not pending

    async def wait_pgid(self, timeout: float) -> int | None:
        """The process group id, waiting briefly if the wrapper has not announced it yet.

        None when stdout ended without an announcement (e.g. `cd` failed first).
        """
        await asyncio.wait([self.pgid], timeout=timeout)
        return self.pgid.result() if self.pgid.done() else None

    def close(self) -> None:
        """Stop reading and close the channel (does not by itself kill anything remote)."""
        for task in self._tasks:
            if task.done() and not task.cancelled():
                task.exception()  # already reported (or irrelevant after a kill); mark it seen
            task.cancel()
        self._process.close()
        if not self.pgid.done():
            self.pgid.set_result(None)

    async def _write_stdin(self, data: Stdin) -> None:
        # Written concurrently with reading: a command that echoes a large stdin
        # would otherwise block on its full stdout while we block on its stdin.
        # Best effort: a command may exit without reading its input, and that is
        # its exit status to report, not a transport failure.
        with contextlib.suppress(asyncssh.Error, OSError):
            if isinstance(data, bytes | bytearray):
                if data:
                    self._process.stdin.write(data)
                    await self._process.stdin.drain()
            elif data is not None:
                async for chunk in data:
                    self._process.stdin.write(chunk)
                    await self._process.stdin.drain()
            self._process.stdin.write_eof()

    async def _read_raw(self, stream: asyncssh.SSHReader[bytes]) -> None:
        """Stdout as data: the wrapper's pgid line comes first and is taken off; every byte
        after it goes to on_bytes unchanged."""
        head = b""
        try:
            while chunk := await stream.read(READ_CHUNK):
                if not self.pgid.done():
                    head += chunk
                    if b"\n" not in head and len(head) < READ_CHUNK:
                        continue
                    first, _, chunk = head.partition(b"\n")
                    if self._take_pgid([first]):  # not the announcement: it is data
                        chunk = head
                    if not self.pgid.done():
                        self.pgid.set_result(None)
                if chunk:
                    await self._on_bytes(chunk)  # type: ignore[misc]
            if head and not self.pgid.done():
                await self._on_bytes(head)  # type: ignore[misc]
        except (asyncssh.Error, OSError, asyncio.IncompleteReadError) as exc:
            raise ConnectionLost(f"connection lost while reading output: {exc}") from exc
        finally:
            if not self.pgid.done():
                self.pgid.set_result(None)

    async def _read(self, stream: asyncssh.SSHReader[bytes], name: str) -> None:
        splitter = LineSplitter()
        try:
            while chunk := await stream.read(READ_CHUNK):
                await self._deliver(name, splitter.feed(chunk))
            await self._deliver(name, splitter.flush())
        except (asyncssh.Error, OSError, asyncio.IncompleteReadError) as exc:
            raise ConnectionLost(f"connection lost while reading output: {exc}") from exc
        finally:
            if name == "out" and not self.pgid.done():
                self.pgid.set_result(None)

    async def _deliver(self, name: str, lines: list[bytes]) -> None:
        if name == "out" and not self.pgid.done():
            lines = self._take_pgid(lines)
        for line in lines:
            if self._on_line is not None:
                result = self._on_line(OutputLine(name, decode(line), time.time()))
                if inspect.isawaitable(result):
                    await result

    def _take_pgid(self, lines: list[bytes]) -> list[bytes]:
        """Remove the wrapper's announcement from stdout and resolve `pgid` with it."""
        for index, line in enumerate(lines):
            if line.startswith(PGID_MARKER) and line[len(PGID_MARKER) :].isdigit():
                self.pgid.set_result(int(line[len(PGID_MARKER) :]))
                return lines[:index] + lines[index + 1 :]
        return lines

    def _exit_status(self) -> int:
        status = self._process.exit_status
        if status is not None and status >= 0:
            return status
        exit_signal = self._process.exit_signal
        if exit_signal is not None:
            number = getattr(signal, f"SIG{exit_signal[0]}", None)
            return 128 + int(number) if number is not None else 255
        raise ConnectionLost("connection lost before the command reported an exit status")
