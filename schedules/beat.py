"""Periodic tasks of the schedules app, merged into CELERY_BEAT_SCHEDULE by settings."""

from __future__ import annotations

BEAT_SCHEDULE = {
    # Every 15 s: a scheduled deploy is queued at most ~15 s late. Two beats running at once
    # are harmless (each schedule is claimed by a conditional UPDATE), only wasteful.
    "schedules-fire-due": {
        "task": "schedules.tasks.fire_due_schedules",
        "schedule": 15.0,
        # The control queue, beside the watchdog (deployments.celery_schedule); the message
        # expires before the next tick, so a late one is dropped and the next tick fires.
        "options": {"queue": "control", "expires": 14},
    },
}
