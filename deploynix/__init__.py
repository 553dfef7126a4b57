"""Deploynix: zero-downtime deployments to your own servers."""

from deploynix.celery import app as celery_app

__all__ = ["celery_app"]
