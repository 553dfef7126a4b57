"""The Celery app. Configuration lives in settings (CELERY_*): JSON only, ids as arguments."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deploynix.settings")

app = Celery("deploynix")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
