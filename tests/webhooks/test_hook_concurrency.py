"""The same delivery posted 20 times at once deploys exactly once (real PostgreSQL, threads)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from deployments.models import Deployment
from tests.webhooks.signing import push
from webhooks.models import WebhookDelivery

COPIES = 20


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_it_deploys_a_delivery_posted_concurrently_once(site, secret):
    body, headers = push("github", secret, delivery="same-delivery")
    url = f"/hooks/{site.webhook_uuid}/github"
    start = threading.Barrier(COPIES)

    def post(_n: int) -> int:
        try:
            start.wait()
            return Client().post(url, body, content_type="application/json",
                                 headers=headers).status_code
        finally:
            connection.close()  # each thread has its own connection; let teardown flush

    with ThreadPoolExecutor(COPIES) as pool:
        statuses = sorted(pool.map(post, range(COPIES)))
    assert statuses == [200] * (COPIES - 1) + [202]
    assert Deployment.objects.count() == 1
    assert WebhookDelivery.objects.filter(decision="duplicate").count() == COPIES - 1
