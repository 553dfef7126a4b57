"""The member socket base of the tenancy core.

`MemberSocket` is the base of every member-only socket: it authorizes with the same access
functions as the views (`membership_get` + `Cap.VIEW`), refuses the handshake of anyone else
(no frame is ever sent to them), and re-checks access every few seconds, so a removed member,
a lowered role, a logged-out session or a changed password stops receiving frames within seconds.
"""

from __future__ import annotations

import asyncio
import logging
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user
from django.http import Http404

from tenancy.access import membership_get
from tenancy.models import Membership
from tenancy.roles import Cap, can
from tenancy.socket_slots import Slot, slot_claim, slot_release, slot_renew
from tenancy.two_factor import two_factor_missing

logger = logging.getLogger(__name__)

# Application close code for "your access was withdrawn": the browser stops reconnecting.
CLOSE_ACCESS_REVOKED = 4403
# Application close code for "this user or organization has too many live sockets open".
CLOSE_TOO_MANY_SOCKETS = 4429
TOO_MANY_SOCKETS_REASON = "too many live connections"


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
    """The active user a session belongs to right now: None once the session is logged out or
    deleted, the user deactivated, or the password changed since the session logged in.

    The same check as every HTTP request (`django.contrib.auth.get_user`, which reads only
    `request.session`): the session's auth hash must match the user's current password.
    """
    if not session_key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(SimpleNamespace(session=store))
    return user if user.is_authenticated else None


def still_allowed(session_key: str | None, org_slug: str) -> bool:
    """Re-read session, user and membership from the database: may this socket go on?"""
    return viewer_membership(session_user(session_key), org_slug) is not None


class MemberSocket(AsyncJsonWebsocketConsumer):
    """A socket only members with `Cap.VIEW` may open and keep open.

    Subclasses implement `open()`: authorize, `join()` groups, `accept_member(org_id)` (which
    closes the socket at once, with CLOSE_TOO_MANY_SOCKETS, when a cap of socket_slots is
    reached: stop there), send any backlog, then `watch_access(org_slug)`; return False to
    refuse the handshake.
    """

    recheck_seconds: float = 3.0

    async def connect(self) -> None:
        self.joined: list[str] = []
        self.watcher: asyncio.Task | None = None
        self.revoked = False
        self.slot: Slot | None = None
        if not await self.open():
            await self.close()  # before accept(): the handshake is refused, nothing is sent

    async def open(self) -> bool:
        raise NotImplementedError

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined.append(group)

    async def accept_member(self, organization_id: int) -> bool:
        """Accept the handshake; then, without a free slot, close at once with a code the
        browser can read (a refused handshake carries none). True when the socket may go on."""
        self.slot = await slot_claim(user_id=self.scope["user"].pk,
                                     organization_id=organization_id, member=self.channel_name)
        await self.accept()
        if self.slot is None:
            self.revoked = True
            await self.close(code=CLOSE_TOO_MANY_SOCKETS, reason=TOO_MANY_SOCKETS_REASON)
            return False
        return True

    def watch_access(self, org_slug: str) -> None:
        self.watcher = asyncio.create_task(self._watch(org_slug))

    async def _watch(self, org_slug: str) -> None:
        session_key = self.scope["session"].session_key
        allowed = True
        while allowed:
            await asyncio.sleep(self.recheck_seconds)
            try:
                allowed = await database_sync_to_async(still_allowed)(session_key, org_slug)
                if allowed and self.slot is not None:
                    await slot_renew(self.slot)
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
        if self.slot is not None:
            await slot_release(self.slot)
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
