"""The raw log download as a stream: keyset pages of stored lines, constant memory.

Django's StreamingHttpResponse reads a synchronous iterator whole before sending it under
ASGI (daphne), and an asynchronous one whole under WSGI. `LogStream` is both, and
`StreamingLogResponse` hands each server the side it can stream, so memory stays at one
page (PAGE_LINES lines) whatever the log's size, on either server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse

from deployments import selectors
from deployments.ansi import strip_ansi

PAGE_LINES = 2000


def render_rows(rows: list[tuple[int, str, str]]) -> bytes:
    """`[server] text` lines (colour codes removed), as the download shows them."""
    return "".join(
        f"[{server}] {strip_ansi(text)}\n" if server else f"{strip_ansi(text)}\n"
        for _seq, server, text in rows
    ).encode()


class LogStream:
    """The stored lines of one deployment in seq order, one keyset page (seq > last) per chunk.

    Each page is its own short query: no cursor stays open while a slow client reads, and
    lines stored meanwhile (a running deployment) are included up to the moment of the read.
    """

    def __init__(self, deployment_id: int, page: int = PAGE_LINES) -> None:
        self.deployment_id = deployment_id
        self.page = page

    def read(self, after: int) -> list[tuple[int, str, str]]:
        return selectors.log_text_page(deployment_id=self.deployment_id, after=after,
                                       limit=self.page)

    def __iter__(self) -> Iterator[bytes]:
        after = 0
        while rows := self.read(after):
            yield render_rows(rows)
            if len(rows) < self.page:
                return
            after = rows[-1][0]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        read = sync_to_async(self.read, thread_sensitive=True)
        after = 0
        while rows := await read(after):
            yield render_rows(rows)
            if len(rows) < self.page:
                return
            after = rows[-1][0]


class StreamingLogResponse(StreamingHttpResponse):
    """A StreamingHttpResponse of a LogStream that streams under ASGI and WSGI alike."""

    def __init__(self, stream: LogStream, **kwargs) -> None:
        super().__init__(stream, **kwargs)  # the synchronous side, for WSGI and the test client
        self.log_stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.log_stream:
            yield chunk
