"""The organization rule "Owners and Admins must use two-factor": who may set it, what it does."""

from __future__ import annotations

import pytest

from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tenancy.services.tokens import api_token_create
from tenancy.services.two_factor import totp_pending, two_factor_enable
from tests.tenancy.otp import totp_code


def turn_on_two_factor(user) -> None:
    device = totp_pending(user)
    two_factor_enable(actor=Actor(user=user), user=user, code=totp_code(device.bin_key))


def require(cast) -> None:
    cast.org.require_two_factor = True
    cast.org.save(update_fields=["require_two_factor"])


@pytest.mark.parametrize("role, status", [
    ("owner", 200), ("admin", 200), ("manager", 403), ("developer", 403), ("viewer", 403),
    ("outsider", 404),
])
def test_only_owners_and_admins_open_the_setting(cast, client_for, role, status):
    assert client_for(cast.user(role)).get("/o/acme/settings/security/").status_code == status


def test_turning_it_on_needs_two_factor_on_the_actor_first(cast, client_for):
    client = client_for(cast.admin)
    refused = client.post("/o/acme/settings/security/", {"require_two_factor": "on"})
    cast.org.refresh_from_db()
    assert refused.status_code == 400 and not cast.org.require_two_factor


def test_turning_it_on_is_audited(cast, client_for):
    turn_on_two_factor(cast.admin)
    client_for(cast.admin).post("/o/acme/settings/security/", {"require_two_factor": "on"})
    cast.org.refresh_from_db()
    event = AuditEvent.objects.get(verb="organization.require_two_factor")
    assert cast.org.require_two_factor and event.organization == cast.org
    assert event.after == {"required": True}


def test_a_forged_post_by_a_manager_changes_nothing(cast, client_for):
    response = client_for(cast.manager).post("/o/acme/settings/security/",
                                             {"require_two_factor": "on"})
    cast.org.refresh_from_db()
    assert response.status_code == 403 and not cast.org.require_two_factor


def test_an_admin_without_two_factor_is_sent_to_set_it_up(cast, client_for):
    require(cast)
    response = client_for(cast.admin).get("/o/acme/sites/")
    assert response.status_code == 302
    assert response["Location"] == "/account/two-factor/?org=acme"
    page = client_for(cast.admin).get(response["Location"])
    assert b"Acme</strong> requires two-factor" in page.content


def test_an_admin_with_two_factor_and_a_developer_pass(cast, client_for):
    require(cast)
    turn_on_two_factor(cast.owner)
    assert client_for(cast.owner).get("/o/acme/sites/").status_code == 200
    assert client_for(cast.developer).get("/o/acme/sites/").status_code == 200


def test_the_rule_covers_only_its_own_organization(cast, client_for):
    require(cast)  # the outsider owns "other", which does not require it
    assert client_for(cast.outsider).get("/o/other/sites/").status_code == 200


def test_api_tokens_of_an_admin_without_two_factor_are_refused(cast, client):
    _, plaintext = api_token_create(actor=Actor(user=cast.admin), user=cast.admin,
                                    organization=cast.org, name="ci", abilities=["site:read"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}
    assert client.get("/api/v1/sites/", **auth).status_code == 200
    require(cast)
    response = client.get("/api/v1/sites/", **auth)
    assert response.status_code == 403 and "two-factor" in response.json()["detail"]
