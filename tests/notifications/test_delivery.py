"""Delivery: retried with backoff on failure, failures recorded on the channel, never felt by
the deployment."""

from __future__ import annotations

import pytest

from deployments.models import Deployment, Status
from notifications import transport
from notifications.models import Channel
from notifications.payloads import event_payload
from notifications.services import channel_deliver, notify_deployment_event
from notifications.tasks import MAX_RETRIES, send_notification
from notifications.transport import DeliveryError


def payload_of(deployment, event="failed") -> dict:
    from django.utils import timezone

    return event_payload(deployment, event, msg_id="msg_test", now=timezone.now())


def test_it_retries_a_channel_answering_500_then_records_the_error(add_channel, deployment,
                                                                   receiver):
    receiver.statuses = [500]
    channel = add_channel("webhook")
    result = send_notification.apply(args=[channel.pk, payload_of(deployment)])
    assert result.failed() and len(receiver.requests) == 1 + MAX_RETRIES
    channel.refresh_from_db()
    assert channel.failing and "HTTP 500" in channel.last_error


def test_it_delivers_once_the_receiver_recovers(add_channel, deployment, receiver):
    receiver.statuses = [500, 503, 200]
    channel = add_channel("slack")
    assert send_notification.apply(args=[channel.pk, payload_of(deployment)]).get() == "sent"
    channel.refresh_from_db()
    assert len(receiver.requests) == 3 and not channel.failing


def test_it_resends_the_same_message_id_on_retry(add_channel, deployment, receiver):
    receiver.statuses = [500, 200]
    channel = add_channel("webhook")
    send_notification.apply(args=[channel.pk, payload_of(deployment)])
    assert [r.headers["webhook-id"] for r in receiver.requests] == ["msg_test", "msg_test"]


def test_it_backs_off_exponentially(add_channel):
    assert send_notification.autoretry_for == (DeliveryError,)
    assert send_notification.retry_backoff is True and send_notification.max_retries == 5


def test_it_leaves_the_deployment_alone_when_every_channel_fails(
        add_channel, deployment, receiver, eager_celery, django_capture_on_commit_callbacks):
    receiver.statuses = [500]
    add_channel("webhook")
    add_channel("discord", target="http://127.0.0.1:9/unreachable")
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_deployment_event(deployment.pk, "succeeded") == 2
    assert Deployment.objects.get(pk=deployment.pk).status == Status.SUCCEEDED
    assert Channel.objects.filter(last_error__gt="").count() == 2


def test_it_never_raises_from_the_deployment_side(deployment):
    assert notify_deployment_event(deployment.pk, "exploded") == 0
    assert notify_deployment_event(999_999, "succeeded") == 0


def test_it_does_not_follow_redirects(add_channel, deployment, receiver):
    receiver.statuses = [302]
    channel = add_channel("webhook")
    with pytest.raises(DeliveryError, match="HTTP 302"):
        channel_deliver(channel_id=channel.pk, payload=payload_of(deployment))
    assert [r.path for r in receiver.requests] == ["/hook/s3cr3t-path"]


def test_it_keeps_the_secret_url_out_of_the_stored_error(add_channel, deployment, receiver):
    receiver.statuses = [404]
    channel = add_channel("slack")
    with pytest.raises(DeliveryError):
        channel_deliver(channel_id=channel.pk, payload=payload_of(deployment))
    channel.refresh_from_db()
    assert "s3cr3t" not in channel.last_error and "127.0.0.1" in channel.last_error


def test_it_gives_up_on_a_silent_receiver_after_the_timeout(monkeypatch, deployment):
    import socket

    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    monkeypatch.setattr(transport, "TIMEOUT_SECONDS", 0.3)
    try:
        with pytest.raises(DeliveryError, match="could not be reached"):
            transport.post_json(f"http://127.0.0.1:{listener.getsockname()[1]}/", b"{}")
    finally:
        listener.close()


def test_it_refuses_non_http_urls_at_send_time():
    with pytest.raises(DeliveryError, match="only http"):
        transport.post_json("file:///etc/passwd", b"{}")


def test_it_skips_a_channel_deleted_or_disabled_since_the_event(add_channel, deployment, receiver):
    channel = add_channel("webhook")
    Channel.objects.filter(pk=channel.pk).update(enabled=False)
    assert channel_deliver(channel_id=channel.pk, payload=payload_of(deployment)) == "skipped"
    assert channel_deliver(channel_id=999_999, payload=payload_of(deployment)) == "skipped"
    assert receiver.requests == []


def test_it_refuses_internal_addresses_when_configured(settings, receiver):
    settings.NOTIFICATIONS_BLOCK_PRIVATE_ADDRESSES = True
    with pytest.raises(DeliveryError, match="non-public address"):
        transport.post_json(receiver.url, b"{}")
    assert receiver.requests == []
