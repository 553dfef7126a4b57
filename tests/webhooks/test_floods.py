"""Floods at the hook URL: coalesced deployments, 429 with Retry-After, bad signatures counted
more strictly. Every request is a real signed (or badly signed) HTTP delivery."""

from __future__ import annotations

import itertools

import pytest

from deployments import lifecycle
from deployments.models import Deployment, Status
from tests.webhooks.signing import push
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db
# Each test posts from its own documentation address: the per-address counters of other tests
# (all from 127.0.0.1) stay out of it.
ADDRESSES = (f"198.51.100.{n}" for n in itertools.count(1))


@pytest.fixture
def post(client, site):
    address = next(ADDRESSES)

    def _post(provider: str, body: bytes, headers: dict[str, str]):
        return client.post(f"/hooks/{site.webhook_uuid}/{provider}", data=body,
                           content_type="application/json", headers=headers,
                           REMOTE_ADDR=address)

    return _post


def test_it_coalesces_a_flood_of_pushes_into_one_queued_deployment(post, secret, site):
    commits = [f"{n:040x}" for n in range(1, 101)]
    for commit in commits:
        assert post("github", *push("github", secret, after=commit)).status_code == 202
    queued = Deployment.objects.filter(site=site, status=Status.QUEUED)
    assert list(queued.values_list("commit_sha", flat=True)) == [commits[-1]]
    assert Deployment.objects.filter(status=Status.CANCELLED).count() == 99


def test_it_keeps_the_running_deployment_and_queues_only_the_newest(post, secret, site):
    first = post("github", *push("github", secret, after="1" * 40)).json()["deployment"]
    lifecycle.deployment_claim(first)
    for commit in ("2" * 40, "3" * 40, "4" * 40):
        post("github", *push("github", secret, after=commit))
    statuses = list(Deployment.objects.order_by("id").values_list("status", flat=True))
    assert statuses == [Status.RUNNING, Status.CANCELLED, Status.CANCELLED, Status.QUEUED]


def test_it_answers_429_with_retry_after_past_the_site_rate(post, secret, settings):
    settings.WEBHOOK_RATE_SITE = "3/m"
    statuses = [post("github", *push("github", secret, after=f"{n:040x}")).status_code
                for n in range(1, 5)]
    assert statuses == [202, 202, 202, 429]
    limited = post("github", *push("github", secret))
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_it_answers_429_past_the_address_rate(post, secret, settings):
    settings.WEBHOOK_RATE_IP = "2/m"
    statuses = [post("github", *push("github", secret, after=f"{n:040x}")).status_code
                for n in range(1, 4)]
    assert statuses == [202, 202, 429]


def test_it_throttles_bad_signatures_long_before_good_deliveries(post, secret, settings):
    settings.WEBHOOK_BAD_SIGNATURE_RATE = "3/m"
    statuses = [post("github", *push("github", "guess")).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    # The site rate (120/m) is far from reached: only the guessing was throttled, and a
    # correctly signed push now waits out the same window.
    assert post("github", *push("github", secret)).status_code == 429
    assert WebhookDelivery.objects.count() == 3  # limited requests are not recorded
