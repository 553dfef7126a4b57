"""The Celery broker: Redis (the default, shared with the channel layer) or RabbitMQ (AMQP).

settings.py takes its CELERY_BROKER_* values from here. Every task acks late (a deployment's
message is acknowledged when it ends), and each broker needs its own options for that:

- Redis keeps an unacknowledged message in a sorted set and hands it to another worker once
  `visibility_timeout` has passed, even while the first worker still runs it: the timeout must
  outlast the longest deployment (settings sets it from the deployment limits).
- RabbitMQ holds an unacknowledged message for as long as the consuming connection lives and
  requeues it the moment that connection dies: no visibility timeout applies. Its queues are
  durable (kombu's default) and messages persistent (Celery's default); publisher confirms make
  a send return only once the broker has the message; AMQP heartbeats notice a dead connection.
  RabbitMQ's own `consumer_timeout` (30 min by default) must outlast the longest deployment too:
  docs/production.md says how.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")
REDIS_SCHEMES = ("redis", "rediss")
# Seconds between AMQP heartbeats; two missed ones and the connection counts as dead.
AMQP_HEARTBEAT_SECONDS = 30
# A send to a broker that is down or unreachable fails within seconds rather than holding up a
# request; deployments.tasks.enqueue then leaves the row to the watchdog.
CONNECT_TIMEOUT_SECONDS = 3


def broker_kind(url: str, name: str = "DEPLOYNIX_BROKER_URL") -> str:
    """"amqp" or "redis" for a broker URL; anything else stops the start-up."""
    scheme = urlsplit(url).scheme
    if scheme in AMQP_SCHEMES:
        return "amqp"
    if scheme in REDIS_SCHEMES:
        return "redis"
    schemes = ", ".join(f"{s}://" for s in (*AMQP_SCHEMES, *REDIS_SCHEMES))
    raise ImproperlyConfigured(f"{name} must start with one of {schemes}; got {scheme or url!r}")


def transport_options(kind: str, *, redis_prefix: str, visibility_timeout: int) -> dict:
    """CELERY_BROKER_TRANSPORT_OPTIONS for the broker `kind`."""
    if kind == "amqp":
        return {"confirm_publish": True}
    return {
        "global_keyprefix": f"{redis_prefix}:celery:",
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        # Notice a connection that died without a reset (a host gone, a dropped NAT entry):
        # TCP keepalive, and a PING before a command on a connection idle for 10 s.
        "socket_keepalive": True,
        "health_check_interval": 10,
        # How long Redis waits for an ack before it hands a message to another worker.
        "visibility_timeout": visibility_timeout,
    }


def heartbeat(kind: str) -> int | None:
    """CELERY_BROKER_HEARTBEAT: AMQP's heartbeat; Redis has none (its health check instead)."""
    return AMQP_HEARTBEAT_SECONDS if kind == "amqp" else None
