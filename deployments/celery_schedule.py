"""Periodic tasks of the deployments app, for the lead to merge into CELERY_BEAT_SCHEDULE.

    from deployments.celery_schedule import BEAT_SCHEDULE as DEPLOYMENTS_BEAT
    CELERY_BEAT_SCHEDULE = {**DEPLOYMENTS_BEAT}
"""

from __future__ import annotations

BEAT_SCHEDULE = {
    # Every 15 s: with DEPLOY_WATCHDOG_SECONDS=90 a dead worker's site is free in < 2 min.
    "deployments-watchdog": {
        "task": "deployments.tasks.watchdog",
        "schedule": 15.0,
        "options": {"queue": "default", "expires": 14},
    },
}
