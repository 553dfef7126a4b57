"""A fleet fetches once: the first server (the seed) fetches and resolves the commit; every
other server gets the release as a tar streamed from the seed's mirror by the panel.

Each receiver's stream is one `git archive` on the seed's connection piped into one `tar -x`
on the receiver's connection: the panel holds at most PIPE_CHUNKS chunks of it (each write
is drained before the next read), writes no file, and the git host sees one fetch however
many servers the site has. The receivers' own mirrors are not updated; the release diff
reads the mirror of the first server by name, which is the seed (deployments/release_diff.py,
deployments/context_builder.py order the servers alike).

A broken stream kills the receiving tar before it sees an end of input, and fails the step:
the failure steps then remove the release on every server and `current` never moved.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from deployments.pipeline import git
from deployments.pipeline.context import DeployContext
from deployments.pipeline.session import ServerSession, StepFailed

# Chunks (up to servers.ssh.job.READ_CHUNK each) in flight between the two connections.
PIPE_CHUNKS = 8


def fetches_once(ctx: DeployContext) -> bool:
    """Whether this deployment's servers get their release from a seed."""
    return ctx.fleet_fetch == "once" and len(ctx.servers) > 1


def receives(s: ServerSession) -> bool:
    """Whether `s` gets its release from the seed rather than from the git host."""
    return fetches_once(s.ctx) and s.spec != s.ctx.servers[0]


def is_seed(s: ServerSession) -> bool:
    """Whether `s` fetches for the others."""
    return fetches_once(s.ctx) and s.spec == s.ctx.servers[0]


async def stream_release(receiver: ServerSession, seed: ServerSession) -> list[str]:
    """Pipe `git archive` of the commit on the seed into the receiver's release; the
    receive_release stdout ("has <file>" lines). StepFailed names the seed when its side broke."""
    sha = receiver.commit
    chunks: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=PIPE_CHUNKS)
    sending = asyncio.create_task(_send(seed, git.archive(receiver.ctx, sha, receiver.name),
                                        chunks))
    receiving = asyncio.create_task(
        receiver.pipe(git.receive_release(receiver.ctx, sha, seed.name), stdin=_drain(chunks))
    )
    tasks = [sending, receiving]
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when="FIRST_COMPLETED")
            if sending in done and sending.exception() is not None:
                receiving.cancel()  # kills tar before it reads an end of input
                raise _seed_failed(seed, sending.exception())
            if receiving in done:
                receiving.result()  # the receiver's own failure, as it is
                # tar may end before the archive's last padding: take what is left, so the
                # seed's side can end and say how it ended.
                tasks.append(asyncio.create_task(_discard(chunks)))
        return receiving.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _send(seed: ServerSession, archive, chunks: asyncio.Queue[bytes | None]) -> None:
    """Run the archive on the seed, each stdout chunk into the queue; None once it exited 0
    (never after a failure: the receiver must not take a cut stream for a whole one)."""
    await seed.pipe(archive, on_bytes=chunks.put)
    await chunks.put(None)


async def _drain(chunks: asyncio.Queue[bytes | None]) -> AsyncIterator[bytes]:
    while (chunk := await chunks.get()) is not None:
        yield chunk


async def _discard(chunks: asyncio.Queue[bytes | None]) -> None:
    while await chunks.get() is not None:
        pass


def _seed_failed(seed: ServerSession, exc: BaseException | None) -> StepFailed:
    reason = exc.message if isinstance(exc, StepFailed) else str(exc) or type(exc).__name__
    return StepFailed(f"the release stream from the seed {seed.name} failed: {reason}",
                      getattr(exc, "exit_code", None))
