"""The process fixtures the browser and end-to-end tests build on."""

from __future__ import annotations

import urllib.request

import pytest

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_it_starts_a_worker_consuming_the_default_and_deploy_queues(celery_worker_process):
    from deploynix.celery import app

    inspect = app.control.inspect(destination=[celery_worker_process.name], timeout=5)
    queues = inspect.active_queues()[celery_worker_process.name]
    assert {queue["name"] for queue in queues} == {"default", "deploy"}


def test_it_serves_the_app_from_a_real_daphne(daphne_server):
    with urllib.request.urlopen(f"{daphne_server.url}/login/", timeout=10) as response:
        assert response.status == 200
        assert "Content-Security-Policy" in response.headers
