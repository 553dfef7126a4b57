"""The role matrix: every team/organization action × every kind of visitor.

Allowed → the effect happens. Refused → 403 inside the organization, 404 outside it, a log-in
redirect for anonymous visitors, and no change in the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tenancy.audit import Actor
from tenancy.models import Invitation, Membership
from tenancy.roles import Cap, Role
from tenancy.services.invitations import invitation_create
from tests.conftest import Cast
from tests.fixtures.matrix import EVERYONE, ROLES, allowed, page_status
from tests.tenancy.conftest import audit_verbs_since, last_audit_id, team_state

NEWCOMER = "newcomer@elsewhere.test"


def _role_of(cast: Cast, user) -> int | None:
    memberships = Membership.objects.filter(organization=cast.org, user=user)
    return memberships.values_list("role", flat=True).first()


def _page_shown(cast: Cast, ctx: dict, who: str) -> bool:
    return True  # a page has no effect beyond its 200


def _invited(cast: Cast, ctx: dict, who: str) -> bool:
    return Invitation.objects.filter(email=NEWCOMER, role=Role.VIEWER).exists()


def _revoked(cast: Cast, ctx: dict, who: str) -> bool:
    return Invitation.objects.get(pk=ctx["invitation"]).revoked_at is not None


def _viewer_promoted(cast: Cast, ctx: dict, who: str) -> bool:
    return _role_of(cast, cast.viewer) == Role.DEVELOPER


def _viewer_removed(cast: Cast, ctx: dict, who: str) -> bool:
    return _role_of(cast, cast.viewer) is None


def _actor_left(cast: Cast, ctx: dict, who: str) -> bool:
    return _role_of(cast, cast.user(who)) is None


def _ownership_moved(cast: Cast, ctx: dict, who: str) -> bool:
    return (_role_of(cast, cast.admin), _role_of(cast, cast.owner)) == (Role.OWNER, Role.ADMIN)


@dataclass(frozen=True)
class Action:
    name: str
    method: str
    path: str  # formatted with the context: {viewer}, {admin} (membership ids), {invitation}
    cap: Cap
    data: dict = field(default_factory=dict)
    effect: Callable[[Cast, dict, str], bool] = _page_shown
    # Refused although the role holds `cap`: a rule of the team, not of the table.
    refused_anyway: frozenset[str] = frozenset()

    def allows(self, who: str) -> bool:
        return allowed(self.cap, who) and who not in self.refused_anyway


# fmt: off
ACTIONS = [
    Action("view dashboard", "get", "/o/acme/", Cap.VIEW),
    Action("view team", "get", "/o/acme/team/", Cap.VIEW),
    Action("invite", "post", "/o/acme/team/invite/", Cap.MANAGE_MEMBERS,
           {"email": NEWCOMER, "role": "20"}, _invited),
    Action("revoke invitation", "post", "/o/acme/team/invitations/{invitation}/revoke/",
           Cap.MANAGE_MEMBERS, {}, _revoked),
    Action("change role", "post", "/o/acme/team/{viewer}/role/", Cap.MANAGE_MEMBERS,
           {"role": "40"}, _viewer_promoted),
    Action("remove member", "post", "/o/acme/team/{viewer}/remove/", Cap.MANAGE_MEMBERS,
           {}, _viewer_removed),
    # The one Owner cannot leave (there is always exactly one): transfer ownership first.
    Action("leave", "post", "/o/acme/team/leave/", Cap.VIEW, {}, _actor_left,
           refused_anyway=frozenset({"owner"})),
    Action("transfer ownership", "post", "/o/acme/team/transfer/", Cap.OWN,
           {"member": "{admin}"}, _ownership_moved),
    Action("view audit", "get", "/o/acme/audit/", Cap.VIEW_AUDIT),
]
# fmt: on

CASES = [(action, who) for action in ACTIONS for who in EVERYONE]
ALLOWED = [pytest.param(a, w, id=f"{a.name}-{w}") for a, w in CASES if a.allows(w)]
REFUSED = [pytest.param(a, w, id=f"{a.name}-{w}") for a, w in CASES if not a.allows(w)]


@pytest.fixture
def ctx(cast: Cast) -> dict:
    """Ids the paths refer to, including one pending invitation to revoke."""
    pending = invitation_create(
        actor=Actor(user=cast.owner), organization=cast.org, email="pending@x.test", role=20
    )
    memberships = {"viewer": cast.membership(cast.viewer), "admin": cast.membership(cast.admin)}
    return {"invitation": pending.pk, **{name: m.pk for name, m in memberships.items()}}


def _send(client_for, cast: Cast, ctx: dict, action: Action, who: str):
    client = client_for(cast.user(who))
    data = {key: value.format(**ctx) for key, value in action.data.items()}
    return getattr(client, action.method)(action.path.format(**ctx), data)


@pytest.mark.parametrize("action,who", ALLOWED)
def test_it_lets_allowed_roles_act(cast, ctx, client_for, action, who):
    response = _send(client_for, cast, ctx, action, who)
    assert response.status_code == (200 if action.method == "get" else 302)
    assert action.effect(cast, ctx, who)


@pytest.mark.parametrize("action,who", REFUSED)
def test_it_refuses_everyone_else_leaving_only_an_audit_trace(cast, ctx, client_for, action, who):
    before, last = team_state(), last_audit_id()
    response = _send(client_for, cast, ctx, action, who)
    # A member refused by a team rule although the role holds the capability also gets 403.
    assert response.status_code == page_status(action.cap, who, ok=403)
    assert team_state() == before
    # A member's refused change is audited; outsiders and anonymous visitors leave no trace.
    refused_member_change = who in ROLES and action.method == "post"
    assert audit_verbs_since(last) == (["permission.denied"] if refused_member_change else [])


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_it_sends_anonymous_visitors_to_log_in(cast, ctx, client_for, action):
    response = _send(client_for, cast, ctx, action, "anonymous")
    path = action.path.format(**ctx)
    assert response["Location"] == f"/login/?next={path}"


def test_it_covers_every_visitor_for_every_action():
    assert len(ALLOWED) + len(REFUSED) == len(ACTIONS) * len(EVERYONE) == 9 * 7


@pytest.mark.parametrize("role,expected", [("viewer", 200), ("outsider", 404), ("anonymous", 302)])
def test_it_serves_dashboard_panels_to_members_only(cast, client_for, role, expected):
    response = client_for(cast.user(role)).get("/o/acme/panels/deployments/")
    assert response.status_code == expected


def test_it_answers_404_for_an_unknown_dashboard_panel(cast, client_for):
    assert client_for(cast.owner).get("/o/acme/panels/secrets/").status_code == 404
