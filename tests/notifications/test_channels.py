"""Slack, Discord and e-mail message shapes; who gets which event; secrets encrypted at rest."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from notifications.models import Channel
from notifications.services import channel_create, notify_deployment_event
from tenancy.audit import Actor


@pytest.fixture
def notify(eager_celery, django_capture_on_commit_callbacks):
    def run(deployment, event="succeeded") -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return notify_deployment_event(deployment.pk, event)

    return run


def test_it_posts_a_slack_message_with_escaped_text(add_channel, deployment, receiver, notify):
    add_channel("slack")
    notify(deployment, "failed")
    message = receiver.requests[0].json()
    expected = "Deploy failed: shop (main @ 1a2b3c4) by developer@acme.test"
    assert message["text"].startswith(expected)
    assert message["blocks"][0]["text"]["text"].startswith("<http://")
    assert "Fix &lt;checkout&gt; &amp; @everyone" in str(message["blocks"][1]["fields"])


def test_it_posts_a_discord_embed_that_pings_nobody(add_channel, deployment, receiver, notify):
    add_channel("discord")
    notify(deployment, "succeeded")
    message = receiver.requests[0].json()
    [embed] = message["embeds"]
    assert embed["title"] == "Deployed shop (main @ 1a2b3c4) by developer@acme.test"
    assert embed["color"] == 0x16A34A and message["allowed_mentions"] == {"parse": []}


def test_it_sends_an_email_to_every_recipient(add_channel, deployment, mailoutbox, notify):
    add_channel("email", target="ops@acme.test, lead@acme.test")
    notify(deployment, "rolled_back")
    [mail] = mailoutbox
    assert mail.to == ["ops@acme.test", "lead@acme.test"]
    assert mail.subject == "[Deploynix] Rolled back shop (main @ 1a2b3c4) by developer@acme.test"
    assert "Release: 20261127080000" in mail.body


def test_it_notifies_org_wide_and_own_site_channels_only(add_channel, make_site, deployment,
                                                          receiver, notify):
    add_channel("webhook", name="org-wide")
    add_channel("webhook", name="this site", site=deployment.site)
    add_channel("webhook", name="other site", site=make_site(name="blog"))
    assert notify(deployment) == 2 and len(receiver.requests) == 2


def test_it_notifies_only_subscribed_and_enabled_channels(add_channel, deployment, notify):
    add_channel("webhook", name="failures", events=["failed"])
    add_channel("webhook", name="off", enabled=False)
    assert notify(deployment, "succeeded") == 0
    assert notify(deployment, "failed") == 1


def test_it_never_notifies_another_organizations_channels(add_channel, cast, deployment, notify):
    add_channel("webhook", organization=cast.other_org)
    assert notify(deployment) == 0


def test_it_encrypts_urls_and_secrets_at_rest(add_channel, receiver):
    channel = add_channel("webhook")
    with connection.cursor() as cursor:
        cursor.execute("SELECT target, secret FROM notifications_channel WHERE id = %s",
                       [channel.pk])
        target, secret = cursor.fetchone()
    assert "s3cr3t" not in target and "127.0.0.1" not in target
    assert channel.secret.startswith("whsec_") and channel.secret not in secret


@pytest.mark.parametrize("kind,target,field", [
    ("slack", "file:///etc/passwd", "target"),
    ("webhook", "hooks.example.com/x", "target"),
    ("email", "ops@acme.test, not-an-address", "target"),
])
def test_it_refuses_bad_targets_with_a_field_error(cast, kind, target, field):
    with pytest.raises(ValidationError) as exc:
        channel_create(organization=cast.org, actor=Actor(user=cast.admin), kind=kind,
                       name="x", target=target, events=["failed"])
    assert field in exc.value.message_dict and not Channel.objects.exists()


def test_it_refuses_unknown_or_no_events(cast, receiver):
    with pytest.raises(ValidationError) as exc:
        channel_create(organization=cast.org, actor=Actor(user=cast.admin), kind="webhook",
                       name="x", target=receiver.url, events=["exploded"])
    assert "events" in exc.value.message_dict
