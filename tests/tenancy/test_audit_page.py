"""The audit page: newest first, 50 per page, a constant number of queries."""

from __future__ import annotations

import pytest

from tenancy.audit import Actor, audit_record
from tests.conftest import Cast


def _record(cast: Cast, n: int, verb: str = "site.update") -> None:
    actor = Actor(user=cast.admin, ip="192.0.2.7")
    for i in range(n):
        audit_record(
            actor=actor,
            organization=cast.org,
            verb=verb,
            target=cast.viewer,
            before={"n": i},
            after={"n": i + 1},
        )


@pytest.mark.parametrize("events", [5, 50])
def test_it_uses_the_same_number_of_queries_for_5_or_50_events(
    cast, client_for, django_assert_num_queries, events
):
    _record(cast, events)
    client = client_for(cast.manager)
    # session, user, membership (+organization), the switcher's memberships, count, page
    with django_assert_num_queries(6):
        response = client.get("/o/acme/audit/")
    assert len(response.context["rows"]) == min(events + 1, 50)


def test_it_shows_newest_first_with_actor_change_and_ip(cast, client_for):
    _record(cast, 1, verb="first.thing")
    _record(cast, 1, verb="second.thing")
    html = client_for(cast.owner).get("/o/acme/audit/").content.decode()
    assert (
        html.index("second.thing") < html.index("first.thing") < html.index("organization.create")
    )
    assert "admin@acme.test" in html and "192.0.2.7" in html and "<del>0</del> → 1" in html


def test_it_paginates_by_50(cast, client_for):
    _record(cast, 60)  # plus the organization.create event of the cast
    client = client_for(cast.admin)
    first, second = client.get("/o/acme/audit/"), client.get("/o/acme/audit/?page=2")
    assert (len(first.context["rows"]), len(second.context["rows"])) == (50, 11)
    assert second.context["rows"][-1].event.verb == "organization.create"


def test_it_shows_only_this_organizations_events(cast, client_for):
    html = client_for(cast.owner).get("/o/acme/audit/").content.decode()
    assert "outsider@other.test" not in html
    assert "owner@acme.test" in html
