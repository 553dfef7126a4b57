"""The body limits of deploynix/bodylimit.py, applied inside daphne before it buffers a body.

daphne (its `WebRequest`, on Twisted's HTTP parser) reads a request's whole body into memory or
a temporary file before it calls the ASGI application, so a 26 MiB upload was read to the end
before any limit could refuse it. `BoundedWebRequest` decides when the headers are complete
(`gotLength`, Content-Length known) and while a chunked body arrives (`handleContentChunk`):
over the limit, it answers 413 itself, never passes the request to the application, discards
what still arrives and closes the connection.

`install()` makes daphne's server build its HTTP factory from `BoundedHTTPFactory`;
deploynix/asgi.py calls it, so every way of starting daphne on `deploynix.asgi:application`
gets the guard.
"""

from __future__ import annotations

import logging

from daphne import server as daphne_server
from daphne.http_protocol import HTTPFactory, WebRequest
from twisted.internet import reactor

from deploynix.bodylimit import BodyLimits, configured_limits, too_large_body, too_large_headers

logger = logging.getLogger(__name__)

# After the 413, how long the rest of an upload is read and dropped before the connection is
# cut: closing a socket with unread data makes the kernel send a reset, which can destroy the
# 413 before the client reads it (the "lingering close" of nginx and Apache).
LINGER_SECONDS = 2.0


class BoundedWebRequest(WebRequest):
    """daphne's request with a body limit enforced as bytes arrive."""

    limits: BodyLimits | None = None

    def gotLength(self, length):
        self._body_limit = (self.limits or configured_limits()).for_path(self._request_path())
        self._body_received = 0
        self._body_refused = False
        if length is not None and length > self._body_limit:
            super().gotLength(0)  # an empty buffer: nothing of this body is kept
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data):
        if self._body_refused:
            return
        self._body_received += len(data)
        if self._body_received > self._body_limit:
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command, path, version):
        if getattr(self, "_body_refused", False):
            return  # answered already; the application never sees this request
        super().requestReceived(command, path, version)

    def _request_path(self) -> str:
        raw = getattr(self.channel, "_path", b"") or b""
        return raw.split(b"?", 1)[0].decode("latin-1")

    def _refuse(self) -> None:
        self._body_refused = True
        body = too_large_body(self._body_limit)
        head = b"HTTP/1.1 413 Content Too Large\r\n" + b"".join(
            name + b": " + value + b"\r\n" for name, value in too_large_headers(body)
        )
        transport = self.channel.transport
        transport.write(head + b"\r\n" + body)
        logger.info("refused a request body over %s bytes for %s", self._body_limit,
                    self._request_path())
        # Say we are done writing, keep reading (and dropping) for a moment, then cut.
        if hasattr(transport, "loseWriteConnection"):
            transport.loseWriteConnection()
        reactor.callLater(LINGER_SECONDS, _abort, transport)


def _abort(transport) -> None:
    if hasattr(transport, "abortConnection"):
        transport.abortConnection()
    else:
        transport.loseConnection()


class BoundedHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = BoundedWebRequest
        return protocol


def install() -> None:
    """Make daphne's server use the bounded request (daphne.server builds `HTTPFactory`)."""
    daphne_server.HTTPFactory = BoundedHTTPFactory
