"""What the servers app announces: a connection check was asked for.

Sent after commit by servers/services.py with `server_id`; the task module's receiver
(servers/tasks.py, connected in ServersConfig.ready()) queues check_server, so the services
never import their task module.
"""

from __future__ import annotations

from django.dispatch import Signal

server_check_requested = Signal()
