"""The Celery app. Configuration lives in settings (CELERY_*): JSON only, ids as arguments."""

from __future__ import annotations

import os
from contextlib import suppress
from functools import partial

from celery import Celery
from celery.utils.threads import bound_open_broker_sockets
from celery.worker.consumer.consumer import COLLECT_SOCKET_TIMEOUT, Consumer

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deploynix.settings")

app = Celery("deploynix")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class BrokerRestartSafeConsumer(Consumer):
    """Celery 5.7.0's worker consumer, made to survive a Redis restart (settings: worker_consumer)
    and to reconnect promptly once the broker is back.

    When the broker connection drops, 5.7.0 tears it down twice: `collect()` first, whose close
    of the consuming channel stops at the dead BRPOP socket (the channel stays half open) and
    then detaches the transport (`client = None`); then `close()`, which closes that channel
    again. If deliveries are unacknowledged at that moment (every running deployment is:
    acks_late), the second close tries to restore them, builds a Redis pool from the detached
    transport and raises AttributeError ("'NoneType' object has no attribute 'hostname'").
    That is no connection error, so the worker stops with "Unrecoverable error". Celery 5.6.3
    called `collect()` only; no celery or kombu release fixes this (5.7.0 is the newest).

    Here the first teardown forgets the half-closed channel, so the second one has nothing
    left to close. The restore it skips could not have reached a dead broker anyway: the
    messages stay in Redis's unacked set, the running tasks still ack them through the
    channel's own pool once Redis is back, and the watchdog re-sends any deployment whose
    message was lost (deployments.worker._requeue_stranded).
    """

    # Celery retries a lost broker after 2, 4, 6 ... 30 s, so after a long outage a worker
    # would idle up to 30 s with Redis back. Here every 1, 2 ... 5 s at most.
    RECONNECT_INTERVAL_MAX = 5.0

    def ensure_connected(self, conn):
        conn.ensure_connection = partial(
            conn.ensure_connection, interval_start=1, interval_step=1,
            interval_max=self.RECONNECT_INTERVAL_MAX,
        )
        return super().ensure_connected(conn)

    def on_connection_error_after_connected(self, exc):
        connection = self.connection
        if connection is not None:
            bound_open_broker_sockets(connection, COLLECT_SOCKET_TIMEOUT)
            with suppress(Exception):  # best effort, as in Celery's own teardown
                connection.collect(socket_timeout=COLLECT_SOCKET_TIMEOUT)
            connection._default_channel = None
        super().on_connection_error_after_connected(exc)
