"""An open, authenticated SSH connection: run commands, upload and read files."""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import secrets
import textwrap
from collections.abc import Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any

import asyncssh

from servers.shell import command_line, env_argv, in_directory, join
from servers.ssh.errors import CommandTimeout, ConnectionLost, SSHError
from servers.ssh.job import (
    CommandResult,
    OnBytes,
    OnLine,
    RemoteJob,
    Stdin,
    in_own_process_group,
    run_environment,
)
from servers.ssh.keys import fingerprint, public_key_line

# After SIGTERM a process group gets this long to exit before SIGKILL.
TERM_GRACE_SECONDS = 3.0
# How long we wait for a just-started command to announce its process group.
PGID_WAIT_SECONDS = 5.0


class RemoteConnection:
    """One SSH connection to one server, reused for every command of a deployment.

    Use as `async with await connect(target) as conn:` or call `close()`.
    """

    def __init__(self, conn: asyncssh.SSHClientConnection, label: str) -> None:
        self._conn = conn
        self.label = label
        server_key = conn.get_server_host_key()
        assert server_key is not None  # asyncssh always has one after key exchange
        self.host_key: str = public_key_line(server_key)
        self.host_key_fingerprint: str = fingerprint(self.host_key)
        self._sftp: asyncssh.SFTPClient | None = None
        self._sftp_lock = asyncio.Lock()
        self._orphan_kills: set[asyncio.Future[None]] = set()  # strong refs until done

    async def __aenter__(self) -> RemoteConnection:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        on_line: OnLine | None = None,
        stdin: Stdin = None,
        tag: str | None = None,
        pid_dir: str | None = None,
        run_as: Sequence[str] = (),
        on_bytes: OnBytes | None = None,
    ) -> CommandResult:
        """Run `argv` remotely, streaming each stdout/stderr line to `on_line` as it arrives.

        On timeout (CommandTimeout) or cancellation (CancelledError re-raised) the
        command's whole process group is killed before this returns. `tag` marks the
        command and all its children in their environment (DEPLOYNIX_RUN) and `pid_dir`
        gets a pid file for its process group while it runs, so that a later connection
        can find and kill them when this one is gone. ConnectionLost when the connection
        dies under the command (which may then still run on the server). `run_as` is a user
        switch put before everything (`runuser -u USER --`): the command, its process group
        and its pid file then all belong to that user. `stdin` may be an async iterable of
        chunks (streamed with backpressure); `on_bytes` takes stdout as raw data instead of
        lines (deployments/pipeline/seed.py pipes a tar stream from one server to another).
        """
        env = {**(env or {}), **run_environment(tag, pid_dir)}
        if run_as:
            inner = in_own_process_group(argv)
            switched = [*run_as, *env_argv(env), *(in_directory(cwd, inner) if cwd else inner)]
            # The login user's home (the default directory) may be closed to the other user,
            # and the command's directory to the login user (a site's, for sudo -u): the
            # switch starts from /, and the other user enters the directory itself.
            text = command_line(switched, cwd="/")
        else:
            text = command_line(in_own_process_group(argv), cwd=cwd, env=env)
        job = await self._start_job(text, on_line, stdin, on_bytes)
        try:
            async with asyncio.timeout(timeout):
                return await job.finish()
        except BaseException as exc:
            await _unless_cancelled_again(self._stop(job))
            if isinstance(exc, TimeoutError):
                shown = textwrap.shorten(join(argv), width=120, placeholder=" ...")
                raise CommandTimeout(f"timeout: {shown} ran longer than {timeout}s") from None
            raise

    async def upload(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        """Write `data` to `path` atomically: temp file in the same directory, chmod, rename.

        A concurrent reader sees the old file or the new one, never a partial one.
        """
        sftp = await self._sftp_client()
        directory, name = posixpath.split(path)
        temp = posixpath.join(directory, f".{name}.deploynix-{secrets.token_hex(6)}.tmp")
        try:
            async with sftp.open(temp, "wb", asyncssh.SFTPAttrs(permissions=0o600)) as handle:
                await handle.write(data)
            await sftp.chmod(temp, mode)
            # posix-rename@openssh.com replaces the target atomically (rename(2)).
            await sftp.posix_rename(temp, path)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await sftp.remove(temp)
            if isinstance(exc, asyncssh.Error | OSError):
                raise SSHError(f"upload of {path} to {self.label} failed: {exc}") from exc
            raise

    async def read_file(self, path: str) -> bytes:
        """Return the exact bytes of the remote file `path`."""
        sftp = await self._sftp_client()
        try:
            async with sftp.open(path, "rb") as handle:
                return await handle.read()
        except (asyncssh.Error, OSError) as exc:
            raise SSHError(f"reading {path} on {self.label} failed: {exc}") from exc

    @property
    def closed(self) -> bool:
        """Whether the connection is gone (closed by us, the server, or the network)."""
        return self._conn.is_closed()

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._sftp is not None:
            self._sftp.exit()
            self._sftp = None
        self._conn.close()
        await self._conn.wait_closed()

    async def _start_job(
        self, text: str, on_line: OnLine | None, stdin: Stdin, on_bytes: OnBytes | None = None
    ) -> RemoteJob:
        opening = asyncio.ensure_future(self._conn.create_process(text, encoding=None))
        try:
            process = await asyncio.shield(opening)
        except asyncio.CancelledError:
            # The command may start anyway once the channel opens: kill it, then give up.
            opening.add_done_callback(self._kill_orphan)
            raise
        except (asyncssh.Error, OSError) as exc:
            error = ConnectionLost if self.closed else SSHError
            raise error(f"could not start a command on {self.label}: {exc}") from exc
        job = RemoteJob(process, on_line, on_bytes)
        job.start(stdin)
        return job

    def _kill_orphan(self, opening: asyncio.Future[asyncssh.SSHClientProcess[bytes]]) -> None:
        if opening.cancelled() or opening.exception() is not None:
            return
        job = RemoteJob(opening.result(), None)
        job.start(None)
        self._orphan_kills.add(task := asyncio.ensure_future(self._stop(job)))
        task.add_done_callback(self._orphan_kills.discard)

    async def _stop(self, job: RemoteJob) -> None:
        """Kill the job's process group (TERM, then KILL) and close its channel."""
        try:
            pgid = await job.wait_pgid(PGID_WAIT_SECONDS)
            if pgid is not None:
                await self._signal_group(pgid, "TERM")
                if not await job.wait_readers(TERM_GRACE_SECONDS):
                    await self._signal_group(pgid, "KILL")
        finally:
            job.close()

    async def _signal_group(self, pgid: int, signal_name: str) -> None:
        text = command_line(["kill", f"-{signal_name}", "--", f"-{pgid}"])
        with contextlib.suppress(asyncssh.Error, OSError):
            await self._conn.run(text, check=False)

    async def _sftp_client(self) -> asyncssh.SFTPClient:
        async with self._sftp_lock:
            if self._sftp is None:
                try:
                    self._sftp = await self._conn.start_sftp_client()
                except (asyncssh.Error, OSError) as exc:
                    raise SSHError(f"SFTP unavailable on {self.label}: {exc}") from exc
            return self._sftp


async def _unless_cancelled_again(cleanup: Coroutine[Any, Any, None]) -> None:
    """Run cleanup to the end even if the caller is cancelled (again) while it runs."""
    await asyncio.shield(asyncio.ensure_future(cleanup))
