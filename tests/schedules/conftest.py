"""Schedule tests: the site fixtures, and a schedule factory that bypasses the future-only rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from schedules.models import ScheduledDeploy
from schedules.services import schedule_create
from tenancy.audit import Actor


@pytest.fixture
def schedule(site, cast):  # noqa: F811
    """A pending schedule of `site` by the developer, due `minutes` from now (may be past)."""

    def make(minutes: float = 10, user=None, commit: str = "") -> ScheduledDeploy:
        created = schedule_create(
            site=site, actor=Actor(user=user or cast.developer),
            run_at=timezone.now() + timedelta(hours=1), commit=commit,
        )
        # Due times in the past can only be reached by waiting; move it instead.
        created.run_at = timezone.now() + timedelta(minutes=minutes)
        created.save(update_fields=["run_at"])
        return created

    return make
