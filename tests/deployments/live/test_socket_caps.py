"""Live sockets open at once are capped per user and per organization (counted in Redis)."""

from __future__ import annotations

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from deploynix.asgi import application
from tenancy import socket_slots
from tenancy.consumers import CLOSE_TOO_MANY_SOCKETS
from tests.fixtures.live import ORIGIN, session_cookie

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def caps(settings, cast):
    settings.WS_MAX_PER_USER = 2
    settings.WS_MAX_PER_ORG = 3
    users = (cast.viewer, cast.developer, cast.manager)
    keys = {key for user in users for key in socket_slots.slot_keys(user.pk, cast.org.pk)}
    redis.Redis.from_url(settings.REDIS_URL).delete(*keys)  # slots of earlier runs' ids
    return settings


async def assert_refused(socket) -> None:
    closed = await socket.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", CLOSE_TOO_MANY_SOCKETS)
    assert closed["reason"] == "too many live connections"


async def test_it_closes_a_users_socket_past_the_cap_with_4429(cast, caps, ws_open):
    for _ in range(2):
        await ws_open(cast.viewer, "/ws/orgs/acme/")
    extra, _ = await ws_open(cast.viewer, "/ws/orgs/acme/")
    await assert_refused(extra)


async def test_a_closed_socket_frees_its_slot(cast, caps, ws_open):
    first, _ = await ws_open(cast.viewer, "/ws/orgs/acme/")
    await ws_open(cast.viewer, "/ws/orgs/acme/")
    await first.disconnect()
    again, connected = await ws_open(cast.viewer, "/ws/orgs/acme/")
    assert connected and await again.receive_nothing(timeout=0.5)


async def test_it_caps_the_organization_across_users(cast, caps, ws_open):
    for user in (cast.viewer, cast.viewer, cast.developer):
        await ws_open(user, "/ws/orgs/acme/")
    extra, _ = await ws_open(cast.manager, "/ws/orgs/acme/")
    await assert_refused(extra)


async def test_the_log_socket_counts_too(cast, caps, deployment, ws_open):
    for _ in range(2):
        await ws_open(cast.viewer, "/ws/orgs/acme/")
    cookie = (await sync_to_async(session_cookie)(cast.viewer)).encode()
    extra = WebsocketCommunicator(application, f"/ws/deployments/{deployment.pk}/",
                                  headers=[(b"origin", ORIGIN), (b"cookie", cookie)])
    connected, _ = await extra.connect(timeout=10)
    assert connected is True
    await assert_refused(extra)


async def test_a_slot_left_by_a_crashed_server_expires(cast, caps, monkeypatch, ws_open):
    monkeypatch.setattr(socket_slots, "SLOT_TTL_SECONDS", -1)  # taken already expired
    for _ in range(2):
        await socket_slots.slot_claim(user_id=cast.viewer.pk, organization_id=cast.org.pk,
                                      member=f"ghost-{_}")
    monkeypatch.setattr(socket_slots, "SLOT_TTL_SECONDS", 30)
    socket, _ = await ws_open(cast.viewer, "/ws/orgs/acme/")
    assert await socket.receive_nothing(timeout=0.5)
