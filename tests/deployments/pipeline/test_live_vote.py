"""Skip when live: a deploy stops only when every server serves the commit (pure asyncio)."""

from __future__ import annotations

import asyncio

from deployments.pipeline.commit import CommitResolver


async def votes(*live: bool) -> list[bool]:
    resolver = CommitResolver(len(live))
    return list(await asyncio.gather(*(resolver.live_everywhere(here) for here in live)))


def test_every_server_learns_it_is_live_everywhere_only_when_all_say_so():
    assert asyncio.run(votes(True, True, True)) == [True, True, True]
    assert asyncio.run(votes(True, False, True)) == [False, False, False]


def test_a_server_waits_for_the_others_before_deciding():
    async def first_alone() -> bool:
        resolver = CommitResolver(2)
        waiting = asyncio.ensure_future(resolver.live_everywhere(True))
        await asyncio.sleep(0)
        decided_early = waiting.done()
        await resolver.live_everywhere(False)
        return decided_early or await waiting

    assert asyncio.run(first_alone()) is False
