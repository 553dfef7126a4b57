"""Accepting an invitation without an account: the account is made on the invitation page.

The invited address is the invitation's (shown, never typed), the account joins the inviting
organization at once and needs no organization of its own; a person who has an account logs in
(the address filled in) and just joins.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tenancy.models import AuditEvent, Invitation, Membership, Organization, User
from tenancy.roles import Role
from tests.conftest import make_user
from tests.tenancy.conftest import token_from

INVITEE = "newcomer@elsewhere.test"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def token(cast, client_for, mailoutbox, fresh_rate_limits) -> str:
    """An Admin invites INVITEE (who has no account) as Developer through the team page."""
    client_for(cast.admin).post("/o/acme/team/invite/", {"email": INVITEE, "role": "40"})
    client_for(None)  # the tests' `client` is the same one: the invitee arrives logged out
    return token_from(mailoutbox[-1])


def _sign_up(client, token: str, **extra):
    return client.post(f"/invitations/{token}/", {"name": "Ada", "password": PASSPHRASE, **extra})


def test_it_shows_the_account_form_with_the_invited_address_filled_in(token, client):
    page = client.get(f"/invitations/{token}/").content.decode()
    assert f'value="{INVITEE}" readonly' in page
    assert 'name="password"' in page and 'name="email"' not in page


def test_it_creates_the_account_and_joins_the_inviting_organization(cast, token, client):
    response = _sign_up(client, token)
    assert response["Location"] == "/o/acme/"
    user = User.objects.get(email=INVITEE)
    assert user.email_verified and cast.membership(user).role == Role.DEVELOPER
    assert client.get("/o/acme/").status_code == 200  # logged in, no organization of its own
    assert not Organization.objects.filter(memberships__user=user).exclude(slug="acme").exists()


def test_it_audits_the_new_account_and_the_acceptance(cast, token, client):
    _sign_up(client, token)
    verbs = set(AuditEvent.objects.filter(actor__email=INVITEE).values_list("verb", flat=True))
    assert verbs == {"account.signup", "invitation.accept"}


def test_it_takes_the_address_from_the_invitation_never_from_the_form(cast, token, client):
    _sign_up(client, token, email="intruder@evil.test")
    assert User.objects.filter(email=INVITEE).exists()
    assert not User.objects.filter(email="intruder@evil.test").exists()


def test_it_creates_nothing_for_an_expired_invitation(cast, token, client):
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _sign_up(client, token)
    assert response.status_code == 400 and b"expired" in response.content
    assert not User.objects.filter(email=INVITEE).exists()


def test_it_creates_nothing_for_a_used_invitation(cast, token, client):
    Invitation.objects.update(accepted_at=timezone.now())
    response = _sign_up(client, token)
    assert response.status_code == 400 and b"already been used" in response.content
    assert not User.objects.filter(email=INVITEE).exists()


def test_it_refuses_a_weak_password_next_to_the_field(cast, token, client):
    response = _sign_up(client, token, password="12345678")
    assert response.status_code == 400 and "password" in response.context["signup_form"].errors
    assert not User.objects.filter(email=INVITEE).exists()


def test_it_sends_an_existing_account_to_log_in_with_the_address_filled_in(cast, token, client):
    make_user(INVITEE)
    page = client.get(f"/invitations/{token}/").content.decode()
    assert 'name="password"' not in page
    login = client.get(f"/login/?next=/invitations/{token}/&email={INVITEE}").content.decode()
    assert f'value="{INVITEE}"' in login


def test_an_existing_account_just_joins(cast, token, client_for):
    user = make_user(INVITEE)
    response = client_for(user).post(f"/invitations/{token}/")
    assert response["Location"] == "/o/acme/"
    assert list(Membership.objects.filter(user=user).values_list("organization__slug", flat=True)) \
        == ["acme"]


def test_it_refuses_a_person_logged_in_with_another_address(cast, token, client_for):
    page = client_for(cast.outsider).get(f"/invitations/{token}/").content.decode()
    assert "you are logged in as outsider" in page and 'name="password"' not in page
    assert client_for(cast.outsider).post(f"/invitations/{token}/").status_code == 403
