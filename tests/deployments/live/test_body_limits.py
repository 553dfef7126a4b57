"""Oversized request bodies get 413 from a real daphne before it reads them.

Raw sockets, because an HTTP client library would send the whole body before reading anything.
"""

from __future__ import annotations

import json
import select
import socket
import time

import pytest
from django.conf import settings

from deploynix.asgi import application

HUGE = 26 * 1024 * 1024
CHUNK = b"x" * 65_536


def read_response(sock: socket.socket, timeout: float = 5.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}"):
        part = sock.recv(65_536)
        if not part:
            break
        data += part
    return data


def status_and_json(response: bytes) -> tuple[int, dict]:
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def open_request(server, path: str, headers: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())
    return sock


def test_it_refuses_a_declared_huge_body_at_once(daphne_server):
    headers = f"Content-Type: application/json\r\nContent-Length: {HUGE}\r\n"
    started = time.monotonic()
    with open_request(daphne_server, "/api/v1/servers/", headers) as sock:
        sock.sendall(b'{"name": "')  # a body that has begun and will never end
        status, body = status_and_json(read_response(sock))
    assert status == 413
    assert str(settings.MAX_BODY_BYTES) in body["detail"]
    assert time.monotonic() - started < 3


def send_chunks_until_answered(sock: socket.socket, limit_bytes: int) -> int:
    """Stream 64 KiB chunks until the server answers; return the bytes sent by then."""
    sent = 0
    while sent < limit_bytes:
        if select.select([sock], [], [], 0)[0]:
            return sent
        sock.sendall(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
        sent += len(CHUNK)
    return sent


def test_it_refuses_a_chunked_webhook_body_once_it_passes_the_limit(daphne_server):
    headers = "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    path = "/hooks/00000000-0000-0000-0000-000000000000/github/"
    with open_request(daphne_server, path, headers) as sock:
        sent = send_chunks_until_answered(sock, HUGE)
        status, body = status_and_json(read_response(sock))
    assert status == 413
    assert str(settings.WEBHOOK_MAX_BODY_BYTES) in body["detail"]
    # Stopped early, not after 26 MiB. `sent` counts what the client handed to its kernel:
    # loopback's socket buffers (tcp_rmem autotunes up to 32 MiB here) absorb several MiB the
    # server never read (4.1 and 4.6 MiB seen with a 1 MiB limit), so the bound is half the body.
    assert sent < HUGE // 2


def test_it_still_serves_a_body_under_the_limit(daphne_server):
    with open_request(daphne_server, "/api/v1/servers/",
                      "Content-Type: application/json\r\nContent-Length: 2\r\n") as sock:
        sock.sendall(b"{}")
        status = int(read_response(sock).split()[1])
    assert status == 401  # reached the API, which wants a token


async def asgi_post_chunks(path: str, chunks: list[bytes]) -> list[dict]:
    """Drive the ASGI application with a chunked POST; return what it sent back."""
    incoming = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    incoming.append({"type": "http.request", "body": b"", "more_body": False})
    sent: list[dict] = []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [(b"host", b"127.0.0.1")], "scheme": "http",
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1234), "root_path": ""}
    await application(scope, receive, send)
    return sent


@pytest.mark.django_db
async def test_the_asgi_middleware_counts_streamed_chunks_for_any_server():
    chunks = [CHUNK] * (settings.MAX_BODY_BYTES // len(CHUNK) + 2)
    sent = await asgi_post_chunks("/api/v1/servers/", chunks)
    assert sent[0]["status"] == 413
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
