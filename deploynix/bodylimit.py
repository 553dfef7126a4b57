"""Request body limits, enforced in the ASGI layer before a body is buffered.

Every HTTP request gets a byte limit chosen by its path (webhooks have their own, smaller one).
A request whose `Content-Length` is over it is answered 413 at once, without reading the body;
a chunked body is counted as its `http.request` messages arrive and answered 413 as soon as it
passes the limit. The answer is a small JSON document, for API clients and browsers alike.

daphne reads a whole body before it calls the application, so this middleware alone would come
too late there: deploynix/daphne_guard.py applies the same limits inside daphne's request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings

WEBHOOK_PREFIX = "/hooks/"


@dataclass(frozen=True)
class BodyLimits:
    """The byte limit of each route family: webhooks, and everything else."""

    default: int
    webhooks: int

    def for_path(self, path: str) -> int:
        return self.webhooks if path.startswith(WEBHOOK_PREFIX) else self.default


def configured_limits() -> BodyLimits:
    return BodyLimits(default=settings.MAX_BODY_BYTES, webhooks=settings.WEBHOOK_MAX_BODY_BYTES)


def too_large_body(limit: int) -> bytes:
    """The 413 answer's JSON body (the shape of every API error: {"detail": ...})."""
    return json.dumps({"detail": f"Request body larger than {limit} bytes."}).encode()


def too_large_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]


def declared_length(headers) -> int | None:
    """The request's Content-Length, or None when absent or malformed (counted as it comes)."""
    for name, value in headers:
        if name.lower() == b"content-length":
            return int(value) if value.strip().isdigit() else None
    return None


class BodyLimitMiddleware:
    """ASGI middleware: 413 for a body over its route's limit, declared or streamed."""

    def __init__(self, app, limits: BodyLimits | None = None) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = (self.limits or configured_limits()).for_path(scope["path"])
        declared = declared_length(scope["headers"])
        if declared is not None and declared > limit:
            return await _refuse(send, limit)
        return await _Bounded(self.app, limit).run(scope, receive, send)


class _Bounded:
    """One request whose body is counted as it arrives; past the limit the app sees a client
    that went away (Django then stops reading) and the client gets the 413."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit
        self.received = 0
        self.refused = False

    async def run(self, scope, receive, send) -> None:
        async def counted_receive():
            if self.refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    self.refused = True
                    await _refuse(send, self.limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if not self.refused:  # the 413 is already the answer
                await send(message)

        await self.app(scope, counted_receive, guarded_send)


async def _refuse(send, limit: int) -> None:
    body = too_large_body(limit)
    await send({"type": "http.response.start", "status": 413, "headers": too_large_headers(body)})
    await send({"type": "http.response.body", "body": body})
