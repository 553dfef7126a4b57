"""Live-log tests run against the real ASGI app, PostgreSQL and the Redis channel layer.

The consumers read the database from worker threads, so test data must be committed:
every socket test is `django_db(transaction=True)`.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from tests.fixtures.live import make_deployment


@pytest.fixture
def deployment(transactional_db, cast):
    """A running deployment of the cast's organization, with no log lines yet."""
    return make_deployment(cast.org)


async def receive_lines(communicator, count: int, timeout: float = 5) -> list[dict]:
    """Read `log.batch` frames until `count` lines arrived (other frames are skipped)."""
    lines: list[dict] = []
    while len(lines) < count:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["type"] == "log.batch":
            lines.extend(frame["lines"])
    return lines


def line_text(line: dict) -> str:
    """The text of a line of a `log.batch` frame (its coloured segments, joined)."""
    return "".join(text for _, text in line["segments"])


async def remove_membership(cast, user) -> None:
    await sync_to_async(lambda: cast.membership(user).delete())()
