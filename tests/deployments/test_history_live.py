"""After a rollback the history says "live" once: on the row that made the release live, per
server from the servers' own facts."""

from __future__ import annotations

import pytest
from django.utils import timezone

from deployments.models import ServerReleaseFacts
from tests.deployments.history_rows import build_history

pytestmark = pytest.mark.django_db
LIVE = "data-live-row"


def _history(client, site) -> str:
    return client.get(f"/o/acme/sites/{site.pk}/history/").content.decode()


def _row_of(page: str, deployment) -> str:
    start = page.index(f'href="/o/acme/deployments/{deployment.pk}/"')
    return page[start:page.index("</tr>", start)]


def test_after_a_rollback_only_the_rollback_row_says_live(cast, client_for, site):
    rows = build_history(site)
    page = _history(client_for(cast.viewer), site)
    assert page.count(LIVE) == 1
    assert LIVE in _row_of(page, rows["rollback"])
    assert LIVE not in _row_of(page, rows["first"])


def test_live_is_shown_per_server_from_the_servers_facts(cast, client_for, site, add_server):
    rows = build_history(site)
    web2 = add_server(name="web-2", host="127.0.0.2")
    site.servers.add(web2)
    now = timezone.now()
    for server, release in ((site.servers.get(name="web-1"), "20260101000000"),
                            (web2, "20260103000000")):
        ServerReleaseFacts.objects.create(
            site=site, server=server, current_release=release, observed_at=now, checked_at=now,
            releases=[{"name": "20260101000000"}, {"name": "20260103000000"}])
    page = _history(client_for(cast.viewer), site)
    assert "live on web-1" in _row_of(page, rows["rollback"])
    assert "live on web-2" in _row_of(page, rows["third"])
    assert page.count(LIVE) == 2


def test_facts_read_before_the_rollback_ended_do_not_mark_the_old_row(cast, client_for, site):
    rows = build_history(site)
    before_rollback = rows["rollback"].started_at
    ServerReleaseFacts.objects.create(
        site=site, server=site.servers.get(), current_release="20260103000000",
        observed_at=before_rollback, checked_at=before_rollback,
        releases=[{"name": "20260101000000"}, {"name": "20260103000000"}])
    page = _history(client_for(cast.viewer), site)
    assert LIVE in _row_of(page, rows["rollback"])
    assert LIVE not in _row_of(page, rows["third"])
