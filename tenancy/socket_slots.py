"""Concurrent live sockets per user and per organization, counted in Redis.

Every member socket holds one slot in two Redis sorted sets (its user's and its organization's),
scored by when the slot expires. The socket's access watcher renews it every few seconds and
its disconnect frees it; a slot whose daphne crashed simply expires after SLOT_TTL_SECONDS, so a
crash never leaks capacity. Claiming is one Lua script: expired slots are dropped, both counts
checked and both slots taken atomically, so two sockets opening at once cannot both pass a cap.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass

import redis.asyncio as redis
from django.conf import settings

# Renewed every MemberSocket.recheck_seconds (3 s): ten missed renewals before a slot lapses.
SLOT_TTL_SECONDS = 30

_CLAIM = """
local now, expires = tonumber(ARGV[1]), tonumber(ARGV[2])
for _, key in ipairs(KEYS) do redis.call('ZREMRANGEBYSCORE', key, '-inf', now) end
for i, key in ipairs(KEYS) do
  if redis.call('ZSCORE', key, ARGV[3]) == false
     and redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then
    return i
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, expires, ARGV[3])
  redis.call('EXPIRE', key, ARGV[6])
end
return 0
"""

# One client per event loop: an asyncio Redis connection cannot be shared between loops.
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Slot:
    keys: tuple[str, str]  # the user's set, the organization's set
    member: str  # the socket's channel name


def slot_keys(user_id: int, organization_id: int) -> tuple[str, str]:
    prefix = f"{settings.REDIS_PREFIX}:ws"
    return f"{prefix}:user:{user_id}", f"{prefix}:org:{organization_id}"


async def slot_claim(*, user_id: int, organization_id: int, member: str) -> Slot | None:
    """A slot for one more socket of this user in this organization; None when either the
    user's or the organization's cap (DEPLOYNIX_WS_MAX_PER_USER / _PER_ORG) is reached."""
    keys = slot_keys(user_id, organization_id)
    now = time.time()
    refused = await _client().eval(
        _CLAIM, 2, *keys, now, now + SLOT_TTL_SECONDS, member,
        settings.WS_MAX_PER_USER, settings.WS_MAX_PER_ORG, SLOT_TTL_SECONDS,
    )
    return None if refused else Slot(keys, member)


async def slot_renew(slot: Slot) -> None:
    """Push the slot's expiry forward (the socket is alive)."""
    expires = time.time() + SLOT_TTL_SECONDS
    async with _client().pipeline(transaction=False) as pipe:
        for key in slot.keys:
            pipe.zadd(key, {slot.member: expires}, xx=True)
            pipe.expire(key, SLOT_TTL_SECONDS)
        await pipe.execute()


async def slot_release(slot: Slot) -> None:
    async with _client().pipeline(transaction=False) as pipe:
        for key in slot.keys:
            pipe.zrem(key, slot.member)
        await pipe.execute()


def _client() -> redis.Redis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5,
            socket_keepalive=True,
        )
        _clients[loop] = client
    return client
