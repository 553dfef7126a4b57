"""Escalation attempts: refused with 403, and the only trace is one `permission.denied` event."""

from __future__ import annotations

import pytest

from tenancy.audit import Actor
from tenancy.models import AuditEvent, Membership
from tenancy.roles import Role
from tenancy.services.invitations import invitation_create
from tests.conftest import Cast, make_user
from tests.tenancy.conftest import audit_verbs_since, last_audit_id, team_state


@pytest.fixture
def second_admin(cast: Cast) -> Membership:
    user = make_user("admin2@acme.test")
    return Membership.objects.create(user=user, organization=cast.org, role=Role.ADMIN)


@pytest.fixture
def admin_invitation(cast: Cast):
    return invitation_create(
        actor=Actor(user=cast.owner), organization=cast.org, email="boss@x.test", role=Role.ADMIN
    )


def _id(cast: Cast, who: str) -> int:
    return cast.membership(cast.user(who)).pk


# (actor, path with {developer}/{owner}/{admin2}/{invitation} placeholders, data)
# fmt: off
ATTEMPTS = {
    "manager changes a role": ("manager", "/o/acme/team/{viewer}/role/", {"role": "40"}),
    "admin promotes to owner": ("admin", "/o/acme/team/{developer}/role/", {"role": "100"}),
    "admin promotes to admin": ("admin", "/o/acme/team/{developer}/role/", {"role": "80"}),
    "admin demotes another admin": ("admin", "/o/acme/team/{admin2}/role/", {"role": "60"}),
    "admin removes another admin": ("admin", "/o/acme/team/{admin2}/remove/", {}),
    "admin demotes the owner": ("admin", "/o/acme/team/{owner}/role/", {"role": "60"}),
    "admin removes the owner": ("admin", "/o/acme/team/{owner}/remove/", {}),
    "admin promotes self": ("admin", "/o/acme/team/{admin}/role/", {"role": "100"}),
    "admin invites an admin": ("admin", "/o/acme/team/invite/", {"email": "x@x.io", "role": "80"}),
    "admin invites an owner": ("admin", "/o/acme/team/invite/", {"email": "x@x.io", "role": "100"}),
    "admin revokes an admin invitation": ("admin", "/o/acme/team/invitations/{invitation}/revoke/",
                                          {}),
    "admin transfers ownership": ("admin", "/o/acme/team/transfer/", {"member": "{admin2}"}),
    "developer invites": ("developer", "/o/acme/team/invite/", {"email": "x@x.test", "role": "20"}),
    "owner demotes self": ("owner", "/o/acme/team/{owner}/role/", {"role": "80"}),
    "owner leaves": ("owner", "/o/acme/team/leave/", {}),
}
# fmt: on


@pytest.mark.parametrize("attempt", ATTEMPTS.keys())
def test_it_refuses_escalation_and_only_audits_it(
    cast, client_for, second_admin, admin_invitation, attempt
):
    who, path, data = ATTEMPTS[attempt]
    ids = {name: _id(cast, name) for name in ("owner", "admin", "developer", "viewer")}
    ids.update(admin2=second_admin.pk, invitation=admin_invitation.pk)
    before, last = team_state(), last_audit_id()
    data = {key: value.format(**ids) for key, value in data.items()}
    response = client_for(cast.user(who)).post(path.format(**ids), data)
    assert response.status_code == 403
    assert team_state() == before
    assert audit_verbs_since(last) == ["permission.denied"]


def test_it_records_who_was_refused_and_why(cast, client_for):
    developer = cast.membership(cast.developer)
    client_for(cast.admin).post(f"/o/acme/team/{developer.pk}/role/", {"role": "100"})
    event = AuditEvent.objects.filter(verb="permission.denied").latest("id")
    assert (event.actor, event.organization) == (cast.admin, cast.org)
    assert "Owner" in event.after["detail"]
