"""The member socket base of the tenancy core.

`MemberSocket` is the base of every member-only socket: it authorizes with the same access
functions as the views (`membership_get` + `Cap.VIEW`), refuses the handshake of anyone else
(no frame is ever sent to them), and re-checks access every few seconds, so a removed member,
a lowered role or a logged-out session stops receiving frames within seconds.
"""

from __future__ import annotations

import asyncio
import logging
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.http import Http404

from tenancy.access import membership_get
from tenancy.models import Membership
from tenancy.roles import Cap, can
from tenancy.two_factor import two_factor_missing

logger = logging.getLogger(__name__)

# Application close code for "your access was withdrawn": the browser stops reconnecting.
CLOSE_ACCESS_REVOKED = 4403


def viewer_membership(user: Any, org_slug: str) -> Membership | None:
    """The user's membership in `org_slug` if it may view the organization, else None.

    Like `org_view`, an Owner or Admin without the two-factor their organization requires may
    not (tenancy/two_factor.py).
    """
    try:
        membership = membership_get(user, org_slug)
    except Http404:
        return None
    allowed = can(membership.role, Cap.VIEW) and not two_factor_missing(membership)
    return membership if allowed else None


def session_user(session_key: str | None) -> Any:
    """The active user a session belongs to right now (None once logged out or deactivated)."""
    if not session_key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user_id = store.get(SESSION_KEY)
    if user_id is None:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def still_allowed(session_key: str | None, org_slug: str) -> bool:
    """Re-read session, user and membership from the database: may this socket go on?"""
    return viewer_membership(session_user(session_key), org_slug) is not None


class MemberSocket(AsyncJsonWebsocketConsumer):
    """A socket only members with `Cap.VIEW` may open and keep open.

    Subclasses implement `open()`: authorize, `join()` groups, `accept()`, send any backlog,
    then `watch_access(org_slug)`; return False to refuse the handshake.
    """

    recheck_seconds: float = 3.0

    async def connect(self) -> None:
        self.joined: list[str] = []
        self.watcher: asyncio.Task | None = None
        self.revoked = False
        if not await self.open():
            await self.close()  # before accept(): the handshake is refused, nothing is sent

    async def open(self) -> bool:
        raise NotImplementedError

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined.append(group)

    def watch_access(self, org_slug: str) -> None:
        self.watcher = asyncio.create_task(self._watch(org_slug))

    async def _watch(self, org_slug: str) -> None:
        session_key = self.scope["session"].session_key
        allowed = True
        while allowed:
            await asyncio.sleep(self.recheck_seconds)
            try:
                allowed = await database_sync_to_async(still_allowed)(session_key, org_slug)
            except Exception:
                # When we cannot tell, we do not stream; the browser reconnects and is re-checked.
                logger.exception("access re-check failed; closing the socket")
                allowed = False
        self.revoked = True
        await self.close(code=CLOSE_ACCESS_REVOKED)

    async def send_json(self, content: Any, close: bool = False) -> None:
        # Frames already queued for a revoked socket are dropped, not delivered.
        if not self.revoked:
            await super().send_json(content, close)

    async def disconnect(self, code: int) -> None:
        if self.watcher is not None:
            self.watcher.cancel()
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
