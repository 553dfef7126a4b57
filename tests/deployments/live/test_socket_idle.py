"""An idle WebSocket on a real daphne and the real Redis channel layer stays open.

It used to be closed with 1011 after ~5.3 s: redis-py's 5 s socket timeout cut the channel
layer's 5 s blocking read (deploynix/settings.py, CHANNEL_LAYERS).
"""

from __future__ import annotations

import time

import pytest
import websocket
from asgiref.sync import async_to_sync

from deployments.events import send_status
from tests.fixtures.live import session_cookie

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

IDLE_SECONDS = 60


def open_org_socket(server, user) -> websocket.WebSocket:
    host = f"127.0.0.1:{server.port}"
    return websocket.create_connection(
        f"ws://{host}/ws/orgs/acme/", origin=f"http://{host}",
        header=[f"Cookie: {session_cookie(user)}"], timeout=10,
    )


def stay_idle(sock: websocket.WebSocket, seconds: float) -> list[str]:
    """Read (answering daphne's pings, as a browser does) for `seconds`; return any frames."""
    frames: list[str] = []
    deadline = time.monotonic() + seconds
    sock.settimeout(1)
    while time.monotonic() < deadline:
        try:
            frames.append(sock.recv())
        except websocket.WebSocketTimeoutException:
            continue
    sock.settimeout(10)
    return frames


@pytest.mark.timeout(IDLE_SECONDS + 60)
def test_an_idle_socket_stays_open_and_still_receives(cast, deployment, daphne_server):
    sock = open_org_socket(daphne_server, cast.viewer)
    assert stay_idle(sock, IDLE_SECONDS) == []  # a close would raise instead
    deployment.status = "failed"
    async_to_sync(send_status)(deployment)
    frame = sock.recv()
    sock.close()
    assert '"status": "failed"' in frame
