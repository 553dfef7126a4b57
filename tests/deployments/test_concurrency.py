"""Simultaneous requests and claims, each thread on its own database connection."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from deployments import lifecycle
from deployments.models import Deployment, Status, Trigger
from deployments.services import deployment_request
from tenancy.audit import Actor

pytestmark = pytest.mark.django_db(transaction=True)


def _in_threads(count: int, work):
    """Run `work(n)` in `count` threads released at the same moment."""
    barrier = threading.Barrier(count)

    def run(n: int):
        try:
            barrier.wait()
            return work(n)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_it_collapses_simultaneous_requests_for_the_same_commit(site, cast):
    def request(_n: int) -> int:
        return deployment_request(
            site=site, actor=Actor(user=cast.developer), trigger=Trigger.WEBHOOK, commit="d" * 40
        ).pk

    ids = _in_threads(8, request)
    assert len(set(ids)) == 1 and Deployment.objects.count() == 1


def test_it_lets_exactly_one_of_simultaneous_deliveries_claim(site):
    deployment = deployment_request(site=site, actor=Actor.system(), trigger=Trigger.API)
    claimed = _in_threads(6, lambda _n: lifecycle.deployment_claim(deployment.pk))
    assert sum(result is not None for result in claimed) == 1
    assert Deployment.objects.get(pk=deployment.pk).status == Status.RUNNING
