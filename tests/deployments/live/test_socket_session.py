"""A member socket closes once its session no longer authenticates its user."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.sessions.models import Session

from tenancy.consumers import CLOSE_ACCESS_REVOKED

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def change_password(user) -> None:
    user.set_password("a brand new passphrase 42")
    user.save()


async def test_it_closes_when_the_password_changes(cast, ws_open):
    socket, _ = await ws_open(cast.developer, "/ws/orgs/acme/")
    await sync_to_async(change_password)(cast.developer)
    closed = await socket.receive_output(timeout=10)
    assert closed["code"] == CLOSE_ACCESS_REVOKED


async def test_it_closes_when_the_session_is_deleted(cast, ws_open):
    socket, _ = await ws_open(cast.developer, "/ws/orgs/acme/")
    await sync_to_async(lambda: Session.objects.all().delete())()
    closed = await socket.receive_output(timeout=10)
    assert closed["code"] == CLOSE_ACCESS_REVOKED


async def test_it_stays_open_while_the_session_is_valid(cast, ws_open):
    socket, _ = await ws_open(cast.developer, "/ws/orgs/acme/")
    assert await socket.receive_nothing(timeout=4)
