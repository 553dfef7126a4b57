"""What the notifications app announces: a message ready to be delivered.

Sent after commit by notifications/services.py with `channel_id` and `payload`; the task
module's receiver (notifications/tasks.py, connected in NotificationsConfig.ready()) queues
the delivery, so the services never import their task module.
"""

from __future__ import annotations

from django.dispatch import Signal

notification_queued = Signal()

# An approval request mail is ready for the members who may approve (`recipients`, `payload`).
approval_requested = Signal()
