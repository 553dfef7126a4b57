"""Rules of the team: exactly one Owner, transfers, bad input shown in place, services enforce."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from tenancy.audit import Actor
from tenancy.models import Membership
from tenancy.roles import Role
from tenancy.services.team import member_change_role, member_remove
from tests.conftest import Cast
from tests.tenancy.conftest import team_state


def _owners(cast: Cast) -> list[str]:
    owners = Membership.objects.filter(organization=cast.org, role=Role.OWNER)
    return list(owners.values_list("user__email", flat=True))


def test_it_keeps_the_last_owner_from_leaving(cast, client_for):
    response = client_for(cast.owner).post("/o/acme/team/leave/")
    assert response.status_code == 403
    assert _owners(cast) == ["owner@acme.test"]


def test_it_keeps_the_last_owner_from_being_demoted(cast, client_for):
    owner = cast.membership(cast.owner)
    response = client_for(cast.owner).post(f"/o/acme/team/{owner.pk}/role/", {"role": "80"})
    assert response.status_code == 403
    assert _owners(cast) == ["owner@acme.test"]


def test_it_transfers_ownership_keeping_exactly_one_owner(cast, client_for):
    admin = cast.membership(cast.admin)
    client_for(cast.owner).post("/o/acme/team/transfer/", {"member": admin.pk})
    assert _owners(cast) == ["admin@acme.test"]
    assert cast.membership(cast.owner).role == Role.ADMIN


def test_it_refuses_to_transfer_to_a_non_admin_next_to_the_field(cast, client_for):
    before = team_state()
    developer = cast.membership(cast.developer)
    response = client_for(cast.owner).post("/o/acme/team/transfer/", {"member": developer.pk})
    assert response.status_code == 400 and "member" in response.context["transfer_form"].errors
    assert team_state() == before


def test_it_shows_an_unknown_role_next_to_the_member(cast, client_for):
    viewer = cast.membership(cast.viewer)
    response = client_for(cast.admin).post(f"/o/acme/team/{viewer.pk}/role/", {"role": "boss"})
    row = next(r for r in response.context["members"] if r.membership.pk == viewer.pk)
    assert response.status_code == 400 and "valid choice" in row.error
    assert cast.membership(cast.viewer).role == Role.VIEWER


def test_it_answers_404_for_a_member_of_another_organization(cast, client_for):
    stranger = Membership.objects.get(user=cast.outsider)
    response = client_for(cast.owner).post(f"/o/acme/team/{stranger.pk}/remove/")
    assert response.status_code == 404
    assert Membership.objects.filter(pk=stranger.pk).exists()


def test_it_audits_a_role_change_with_before_and_after(cast, client_for):
    viewer = cast.membership(cast.viewer)
    client_for(cast.admin).post(f"/o/acme/team/{viewer.pk}/role/", {"role": "60"})
    event = cast.org.audit_events.latest("id")
    assert (event.verb, event.target_repr) == ("member.role_change", "viewer@acme.test")
    assert (event.before, event.after) == ({"role": "Viewer"}, {"role": "Manager"})


def test_it_enforces_rank_in_the_service_itself(cast):
    """Defence in depth: a caller that skips the view's capability check is still refused."""
    viewer = cast.membership(cast.viewer)
    with pytest.raises(PermissionDenied):
        member_change_role(actor=Actor(user=cast.manager), member=viewer, role=Role.DEVELOPER)
    with pytest.raises(PermissionDenied):
        member_remove(actor=Actor(user=cast.viewer), member=viewer)


def test_it_uses_the_role_in_the_database_not_a_stale_one(cast):
    """An Admin demoted a moment ago cannot act on the old role still held by a request."""
    admin = cast.membership(cast.admin)
    Membership.objects.filter(pk=admin.pk).update(role=Role.DEVELOPER)
    with pytest.raises(PermissionDenied):
        member_remove(actor=Actor(user=cast.admin), member=cast.membership(cast.viewer))
