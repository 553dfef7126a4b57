"""Celery tasks of the servers app: thin wrappers that take ids and call services.

The services ask for a check with `server_check_requested` (servers/signals.py);
`send_check`, connected in ServersConfig.ready(), queues check_server.
"""

from __future__ import annotations

from celery import shared_task

from servers.models import Server, ServerStatus
from servers.services import server_check

RETRY_COUNTDOWN_SECONDS = 5
MAX_RETRIES = 3


class ServerUnreachable(Exception):
    """Raised to make Celery retry: a server just added (the demo one) may not be up yet."""


@shared_task(
    autoretry_for=(ServerUnreachable,),
    retry_kwargs={"max_retries": MAX_RETRIES, "countdown": RETRY_COUNTDOWN_SECONDS},
    retry_backoff=False,
)
def check_server(server_id: int) -> str | None:
    """Check the connection to server `server_id`; retried only while it is unreachable."""
    server = Server.objects.select_related("organization").filter(pk=server_id).first()
    if server is None:  # deleted since the check was queued
        return None
    status = server_check(server)
    if status == ServerStatus.UNREACHABLE:
        # The stored error says why; the exception carries no key material, only the address.
        raise ServerUnreachable(f"server {server_id} unreachable: {server.last_check_error}")
    return status


def send_check(sender, *, server_id: int, **kwargs) -> None:
    """server_check_requested receiver: queue the connection check of server `server_id`."""
    check_server.delay(server_id)
