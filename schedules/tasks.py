"""Celery tasks of the schedules app. Thin: the claim logic lives in schedules.services."""

from __future__ import annotations

from celery import shared_task

from schedules import services


@shared_task(name="schedules.tasks.fire_due_schedules", ignore_result=True)
def fire_due_schedules() -> list[int]:
    """Queue the deploys whose scheduled time has come (run by beat every ~15 s)."""
    return services.schedules_fire_due()
