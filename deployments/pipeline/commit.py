"""The deployment's exact commit: resolved ONCE, on the first server to get there.

Every server fetches into its own mirror; the first one turns the branch (or the
given SHA) into a verified full SHA and reports it to the sink; the others only
check that the same SHA exists in their mirror. So all servers run one commit,
even if someone pushes while the deployment runs.
"""

from __future__ import annotations

import asyncio
import dataclasses

from deployments.pipeline import git
from deployments.pipeline.context import FULL_SHA
from deployments.pipeline.session import ServerSession, StepFailed


class CommitResolver:
    """Resolves the deployment's exact commit once (first server), then checks it on the others."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.sha = ""

    async def resolve(self, s: ServerSession) -> str:
        """The deployment's SHA; StepFailed when the branch or commit is not in this mirror."""
        async with self._lock:
            if not self.sha:
                self.sha = await _rev_parse(s, s.ctx.commit)
                await _report_commit(s, self.sha)
                return self.sha
        await _rev_parse(s, self.sha)
        return self.sha


async def _rev_parse(s: ServerSession, commit: str | None) -> str:
    ctx = dataclasses.replace(s.ctx, commit=commit)
    sha = (await s.capture(git.resolve_commit(ctx), required=False) or "").strip()
    if not FULL_SHA.match(sha):
        wanted = f"commit {commit}" if commit else f"branch {ctx.branch!r}"
        raise StepFailed(f"{wanted} not found in {ctx.repository_url}")
    return sha


async def _report_commit(s: ServerSession, sha: str) -> None:
    text = await s.capture(git.describe_commit(s.ctx, sha), required=False) or ""
    lines = text.split("\n") + ["", "", ""]
    await s.sink.commit_resolved(sha, lines[2], lines[1])
