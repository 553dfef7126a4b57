"""Periodic tasks of the deployments app, merged into CELERY_BEAT_SCHEDULE by settings.

    from deployments.celery_schedule import beat_schedule
    CELERY_BEAT_SCHEDULE = {**beat_schedule(DEPLOY_WATCHDOG_SECONDS), ...}

Plain data only: settings import this module before Django is set up.
"""

from __future__ import annotations

# The watchdog looks this many times per heartbeat window, at most every 15 s: with the
# default DEPLOY_WATCHDOG_SECONDS=90 a dead worker's site is free within 105 s, with the
# 5 s of the fault tests within 6 s.
TICKS_PER_WINDOW = 6
LONGEST_TICK_SECONDS = 15.0
SHORTEST_TICK_SECONDS = 1.0
GATES_SWEEP_SECONDS = 30.0


def watchdog_tick(watchdog_seconds: float) -> float:
    """Seconds between two watchdog runs for a heartbeat window of `watchdog_seconds`."""
    tick = watchdog_seconds / TICKS_PER_WINDOW
    return max(SHORTEST_TICK_SECONDS, min(LONGEST_TICK_SECONDS, tick))


def beat_schedule(watchdog_seconds: float) -> dict:
    """The watchdog on the control queue (never the deploy queue: a busy, dead or paused deploy
    worker must not hold up what frees its sites). Its message expires before the next tick,
    so one that waited (a paused control worker, a backlog) is discarded, never acted on late;
    the next tick brings a fresh one."""
    tick = watchdog_tick(watchdog_seconds)
    return {
        "deployments-watchdog": {
            "task": "deployments.tasks.watchdog",
            "schedule": tick,
            "options": {"queue": "control", "expires": round(tick * 0.9, 2)},
        },
        # Held deploys start at most this late after their freeze ends; approvals expire
        # at most this late (and at once when someone tries to answer one).
        "deployments-gates-sweep": {
            "task": "deployments.tasks.gates_sweep",
            "schedule": GATES_SWEEP_SECONDS,
            "options": {"queue": "control", "expires": GATES_SWEEP_SECONDS - 1},
        },
    }
