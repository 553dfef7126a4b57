"""The deployment's exact commit: resolved ONCE, on the first server to get there.

Every server fetches into its own mirror and reports what the branch (or the given
SHA) is there; the first report decides the deployment's SHA and goes to the sink.
The others use that SHA too: when their mirror saw a different head (a push while
the deployment runs), they check that the decided SHA exists in their mirror. So
all servers run one commit.
"""

from __future__ import annotations

import asyncio

from deployments.pipeline import git
from deployments.pipeline.context import FULL_SHA
from deployments.pipeline.session import ServerSession, StepFailed


class CommitResolver:
    """Decides the deployment's exact commit once (first server), then checks it on the others."""

    def __init__(self, servers: int = 1) -> None:
        self._lock = asyncio.Lock()
        self.sha = ""
        self.servers = servers
        self._live_votes: list[bool] = []
        self._all_voted = asyncio.Event()
        self.seed: ServerSession | None = None  # set once it fetched and resolved the commit
        self._seeded = asyncio.Event()

    def seeded(self, s: ServerSession) -> None:
        """`s` (the seed, deployments/pipeline/seed.py) has the commit in its mirror."""
        self.seed = s
        self._seeded.set()

    async def seed_session(self) -> ServerSession:
        """The seed, once it resolved the commit (a seed that fails first cancels the waiters
        like any failing server, see runner._all_or_none)."""
        await self._seeded.wait()
        assert self.seed is not None
        return self.seed

    async def live_everywhere(self, live_here: bool) -> bool:
        """Whether every server found the deployment's commit live: waits for each server's
        answer (a server that fails first cancels the others, so nobody waits forever)."""
        self._live_votes.append(live_here)
        if len(self._live_votes) >= self.servers:
            self._all_voted.set()
        await self._all_voted.wait()
        return all(self._live_votes)

    async def settle(self, s: ServerSession, described: list[str]) -> str:
        """The deployment's SHA, given this server's `sha, author, subject` lines.

        StepFailed when the decided commit is not in this server's mirror.
        """
        found = (described or [""])[0].strip()
        if not FULL_SHA.match(found):
            raise StepFailed(not_found(s))
        async with self._lock:
            if not self.sha:
                self.sha = found
                author, subject = (described[1:] + ["", ""])[:2]
                await s.sink.commit_resolved(found, subject, author, mirror=s.connection)
                return found
        if found != self.sha:
            await _verify(s, self.sha)
        return self.sha


def not_found(s: ServerSession) -> str:
    """The refusal for a branch or commit that the repository does not have."""
    wanted = f"commit {s.ctx.commit}" if s.ctx.commit else f"branch {s.ctx.branch!r}"
    return f"{wanted} not found in {s.ctx.repository_url}"


async def _verify(s: ServerSession, sha: str) -> None:
    text = await s.capture(git.describe_commit(s.ctx, sha), required=False) or ""
    if text.split("\n")[0] != sha:
        raise StepFailed(f"commit {sha} not found in {s.ctx.repository_url} on {s.name}")
