"""A real worker on the broker of this pass: Redis, or RabbitMQ in make test's RabbitMQ pass
(scripts/test.sh sets DEPLOYNIX_BROKER_URL to a private virtual host for it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from deploynix.celery import app
from tests.deployments.workers import Worker, purge_queues

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TRANSPORT = {"amqp": "amqp", "redis": "redis"}


@pytest.fixture
def worker(transactional_db, tmp_path: Path):
    purge_queues()
    started = Worker.start("broker", tmp_path, concurrency=2)
    yield started
    started.stop()


def test_the_worker_consumes_from_the_configured_broker(worker):
    stats = app.control.inspect(destination=[worker.hostname], timeout=5).stats()
    broker = stats[worker.hostname]["broker"]
    assert broker["transport"] == TRANSPORT[settings.BROKER_KIND]
    if settings.BROKER_KIND == "amqp":
        assert broker["heartbeat"] == 30
        assert broker["transport_options"] == {"confirm_publish": True}
