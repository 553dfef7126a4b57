"""Who may open ws/deployments/<id>/, and losing access while connected."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.sessions.models import Session

from tenancy.consumers import CLOSE_ACCESS_REVOKED
from tests.deployments.live.conftest import line_text, receive_lines, remove_membership
from tests.fixtures.live import make_deployment, store_lines

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


async def test_it_refuses_an_outsider_without_a_frame(cast, deployment, ws_open):
    await sync_to_async(store_lines)(deployment, ["secret output"])
    socket, connected = await ws_open(cast.outsider, f"/ws/deployments/{deployment.pk}/")
    assert connected is False
    assert await socket.receive_nothing(timeout=0.5)


async def test_it_refuses_an_anonymous_socket(deployment, ws_open):
    socket, connected = await ws_open(None, f"/ws/deployments/{deployment.pk}/")
    assert connected is False
    assert await socket.receive_nothing(timeout=0.5)


async def test_it_refuses_a_missing_deployment_like_a_forbidden_one(cast, ws_open):
    _, connected = await ws_open(cast.owner, "/ws/deployments/987654321/")
    assert connected is False


async def test_it_refuses_a_member_of_another_organization(cast, ws_open):
    theirs = await sync_to_async(make_deployment)(cast.other_org)
    _, connected = await ws_open(cast.developer, f"/ws/deployments/{theirs.pk}/")
    assert connected is False


async def test_it_lets_a_viewer_watch(cast, deployment, ws_open):
    await sync_to_async(store_lines)(deployment, ["hello"])
    socket, connected = await ws_open(cast.viewer, f"/ws/deployments/{deployment.pk}/")
    assert connected is True
    assert [line_text(line) for line in await receive_lines(socket, 1)] == ["hello"]


async def test_it_closes_the_socket_of_a_removed_member_within_seconds(cast, deployment, ws_open):
    socket, _ = await ws_open(cast.developer, f"/ws/deployments/{deployment.pk}/")
    await remove_membership(cast, cast.developer)
    closed = await socket.receive_output(timeout=10)
    assert closed == {"type": "websocket.close", "code": CLOSE_ACCESS_REVOKED}


async def test_it_closes_the_socket_when_its_session_logs_out(cast, deployment, ws_open):
    socket, _ = await ws_open(cast.developer, f"/ws/deployments/{deployment.pk}/")
    await sync_to_async(_log_out_everywhere)(cast.developer)
    closed = await socket.receive_output(timeout=10)
    assert closed["code"] == CLOSE_ACCESS_REVOKED


def _log_out_everywhere(user) -> None:
    for session in Session.objects.all():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()


async def test_it_refuses_a_socket_opened_from_another_site(cast, deployment):
    from channels.testing import WebsocketCommunicator

    from deploynix.asgi import application
    from tests.fixtures.live import session_cookie

    cookie = (await sync_to_async(session_cookie)(cast.developer)).encode()
    headers = [(b"origin", b"http://evil.test"), (b"cookie", cookie)]
    socket = WebsocketCommunicator(application, f"/ws/deployments/{deployment.pk}/", headers)
    connected, _ = await socket.connect(timeout=10)
    assert connected is False
    await socket.disconnect()
