"""The team page shows each control only to the roles that may use it."""

from __future__ import annotations

import pytest

from tenancy.models import Membership
from tenancy.roles import Role
from tests.conftest import make_user
from tests.fixtures.matrix import ROLES

# role → (invite form, transfer form, leave button, number of role selects, remove buttons)
# fmt: off
CONTROLS = {
    "owner": (True, True, False, 4, 4),
    "admin": (True, False, True, 3, 3),
    "manager": (False, False, True, 0, 0),
    "developer": (False, False, True, 0, 0),
    "viewer": (False, False, True, 0, 0),
}
# fmt: on


def _controls(html: str) -> tuple:
    return (
        'action="/o/acme/team/invite/"' in html,
        'action="/o/acme/team/transfer/"' in html,
        'action="/o/acme/team/leave/"' in html,
        html.count('/role/" class="row"'),
        html.count('/remove/"'),
    )


@pytest.mark.parametrize("role", ROLES)
def test_it_shows_each_control_only_to_roles_that_may_use_it(cast, client_for, role):
    html = client_for(cast.user(role)).get("/o/acme/team/").content.decode()
    assert _controls(html) == CONTROLS[role]


def test_it_offers_an_admin_only_roles_below_admin(cast, client_for):
    html = client_for(cast.admin).get("/o/acme/team/").content.decode()
    assert 'value="60"' in html and 'value="20"' in html
    assert 'value="80"' not in html and 'value="100"' not in html


def test_it_lists_every_member_with_their_role(cast, client_for):
    html = client_for(cast.viewer).get("/o/acme/team/").content.decode()
    assert all(f"{role}@acme.test" in html for role in ROLES)
    assert "outsider@other.test" not in html


@pytest.mark.parametrize("extra_members", [0, 20])
def test_it_uses_the_same_number_of_queries_whatever_the_team_size(
    cast, client_for, django_assert_num_queries, extra_members
):
    for i in range(extra_members):
        user = make_user(f"extra{i}@acme.test")
        Membership.objects.create(user=user, organization=cast.org, role=Role.DEVELOPER)
    client = client_for(cast.owner)
    # session, user, membership, members, invitations, switcher, transfer choices (2 cursors)
    with django_assert_num_queries(8):
        client.get("/o/acme/team/")
