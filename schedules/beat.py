"""Periodic tasks of the schedules app, for the lead to merge into CELERY_BEAT_SCHEDULE.

    from schedules.beat import BEAT_SCHEDULE as SCHEDULES_BEAT
    CELERY_BEAT_SCHEDULE = {**DEPLOYMENTS_BEAT, **SCHEDULES_BEAT}
"""

from __future__ import annotations

BEAT_SCHEDULE = {
    # Every 15 s: a scheduled deploy is queued at most ~15 s late. Two beats running at once
    # are harmless (each schedule is claimed by a conditional UPDATE), only wasteful.
    "schedules-fire-due": {
        "task": "schedules.tasks.fire_due_schedules",
        "schedule": 15.0,
        "options": {"queue": "default", "expires": 14},
    },
}
