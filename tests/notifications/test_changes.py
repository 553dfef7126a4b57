"""Notifications carry the release diff's summary (kept diffs only: no SSH while notifying)."""

from __future__ import annotations

import pytest

from deployments.models import ReleaseDiff
from notifications.services import notify_deployment_event

BASE = "0f" * 20
DIFF = {
    "commits": [{"sha": "1a2b3c4d" * 5, "author": "Dev <dev@acme.test>", "subject": "Fix"}],
    "more_commits": False, "file_count": 3, "areas": {},
    "packages": {"composer.lock": {"added": [{"name": "a/b", "version": "1.0"}], "removed": [],
                                   "upgraded": [], "downgraded": []}},
    "migrations": [{"path": "database/migrations/x.php", "destructive": ["dropColumn"]}],
}


@pytest.fixture
def with_diff(deployment):
    deployment.base_commit = BASE
    deployment.env_changes = {"added": ["MAIL_HOST"], "removed": [], "changed": []}
    deployment.save()
    ReleaseDiff.objects.create(site=deployment.site, base=BASE, target=deployment.commit_sha,
                               data=DIFF)
    return deployment


def notify(deployment, capture) -> None:
    with capture(execute=True):
        notify_deployment_event(deployment.pk, "succeeded")


def test_the_webhook_payload_has_the_changes_summary(add_channel, with_diff, receiver,
                                                     eager_celery,
                                                     django_capture_on_commit_callbacks):
    add_channel("webhook")
    notify(with_diff, django_capture_on_commit_callbacks)
    changes = receiver.requests[0].json()["data"]["deployment"]["changes"]
    assert changes["text"] == ("1 commit, 3 files; composer.lock: 1 added; "
                               "1 migration, 1 destructive; env: 1 added")
    assert changes["env"]["added"] == ["MAIL_HOST"]


def test_the_email_says_what_changed(add_channel, with_diff, mailoutbox, eager_celery,
                                     django_capture_on_commit_callbacks):
    add_channel("email", target="ops@acme.test")
    notify(with_diff, django_capture_on_commit_callbacks)
    assert "Changes: 1 commit, 3 files" in mailoutbox[0].body


def test_without_a_kept_diff_the_changes_are_null(add_channel, deployment, receiver,
                                                  eager_celery,
                                                  django_capture_on_commit_callbacks):
    add_channel("webhook")
    notify(deployment, django_capture_on_commit_callbacks)
    assert receiver.requests[0].json()["data"]["deployment"]["changes"] is None
