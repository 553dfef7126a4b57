"""A WebSocket handshake is accepted only from an allowed origin: scheme, host AND port."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from deploynix.asgi import application
from tests.fixtures.live import session_cookie

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


async def handshake(user, origin: bytes, host: bytes = b"127.0.0.1:8000") -> bool:
    cookie = (await sync_to_async(session_cookie)(user)).encode()
    headers = [(b"origin", origin), (b"host", host), (b"cookie", cookie)]
    communicator = WebsocketCommunicator(application, "/ws/orgs/acme/", headers=headers)
    connected, _ = await communicator.connect(timeout=10)
    await communicator.disconnect(timeout=5)
    return connected


@pytest.mark.parametrize("origin", [
    b"http://127.0.0.1:9999",  # another service on an allowed host
    b"https://127.0.0.1:8000",  # the right port, the wrong scheme
    b"http://evil.test:8000",
    b"null",
])
async def test_it_refuses_an_origin_that_differs_in_port_scheme_or_host(cast, origin):
    assert await handshake(cast.viewer, origin) is False


@pytest.mark.parametrize("origin", [
    b"http://127.0.0.1:8000",  # the panel itself, as the socket addressed it
    b"http://localhost",  # an allowed host on its default port
])
async def test_it_accepts_the_panels_own_origins(cast, origin):
    assert await handshake(cast.viewer, origin) is True
