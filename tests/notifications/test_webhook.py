"""Signed JSON webhooks: the documented payload arrives with a valid Standard Webhooks signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from notifications.services import notify_deployment_event


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """An independent verifier, written from the Standard Webhooks spec."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    signatures = headers["webhook-signature"].split()
    presented = [s.split(",", 1)[1] for s in signatures if s.startswith("v1,")]
    return any(hmac.compare_digest(expected, p) for p in presented)


def send(deployment, event, callbacks):
    with callbacks(execute=True):
        return notify_deployment_event(deployment.pk, event)


def test_it_posts_a_validly_signed_payload(add_channel, deployment, receiver, eager_celery,
                                           django_capture_on_commit_callbacks):
    channel = add_channel("webhook")
    assert send(deployment, "succeeded", django_capture_on_commit_callbacks) == 1
    [request] = receiver.requests
    assert verify_standard_webhook(channel.secret, request.headers, request.body)
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 300


def test_it_refuses_to_verify_with_another_secret(add_channel, deployment, receiver, eager_celery,
                                                  django_capture_on_commit_callbacks):
    add_channel("webhook")
    other = add_channel("webhook", name="other")  # its own secret
    send(deployment, "succeeded", django_capture_on_commit_callbacks)
    verdicts = [verify_standard_webhook(other.secret, r.headers, r.body) for r in receiver.requests]
    assert sorted(verdicts) == [False, True]


def test_it_sends_the_documented_payload(add_channel, deployment, receiver, eager_celery, cast,
                                         django_capture_on_commit_callbacks):
    add_channel("webhook")
    send(deployment, "succeeded", django_capture_on_commit_callbacks)
    [request] = receiver.requests
    payload, data = request.json(), request.json()["data"]
    assert payload["type"] == "deployment.succeeded"
    assert payload["id"] == request.headers["webhook-id"]
    assert data["site"]["name"] == "shop" and data["organization"]["slug"] == "acme"
    keys = ("id", "status", "commit", "triggered_by")
    assert {k: data["deployment"][k] for k in keys} == {
        "id": deployment.pk, "status": "succeeded", "commit": deployment.commit_sha,
        "triggered_by": cast.developer.email}


def test_it_keeps_the_message_id_across_channels_and_the_content_type(
        add_channel, deployment, receiver, eager_celery, django_capture_on_commit_callbacks):
    add_channel("webhook")
    add_channel("webhook", name="second")
    send(deployment, "failed", django_capture_on_commit_callbacks)
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1 and ids.pop().startswith("msg_")
    assert {r.headers["content-type"] for r in receiver.requests} == {"application/json"}
