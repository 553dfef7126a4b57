"""The invitation flow: e-mailed single-use link, GET changes nothing, POST joins."""

from __future__ import annotations

import hashlib
import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from tenancy.models import Invitation, Membership
from tenancy.roles import Role
from tests.conftest import Cast, make_user
from tests.tenancy.conftest import token_from

INVITEE = "newcomer@elsewhere.test"


@pytest.fixture
def invitee():
    return make_user(INVITEE)


@pytest.fixture
def token(cast: Cast, client_for, mailoutbox) -> str:
    """An Admin invites INVITEE as Developer through the team page; the link is in the mail."""
    client_for(cast.admin).post("/o/acme/team/invite/", {"email": INVITEE, "role": "40"})
    return token_from(mailoutbox[-1])


def _is_member(cast: Cast, user) -> bool:
    return Membership.objects.filter(organization=cast.org, user=user).exists()


def test_it_emails_a_single_use_link_and_stores_only_its_hash(cast, token, mailoutbox):
    invitation = Invitation.objects.get(email=INVITEE)
    assert mailoutbox[-1].to == [INVITEE] and "Acme" in mailoutbox[-1].subject
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)


def test_it_changes_nothing_when_the_link_is_opened(cast, token, invitee, client_for):
    response = client_for(invitee).get(f"/invitations/{token}/")
    assert b"Acme" in response.content and b"Developer" in response.content
    assert not _is_member(cast, invitee)
    assert Invitation.objects.get(email=INVITEE).accepted_at is None


def test_it_adds_the_member_with_the_invited_role_on_accept(cast, token, invitee, client_for):
    response = client_for(invitee).post(f"/invitations/{token}/")
    assert response["Location"] == "/o/acme/"
    assert cast.membership(invitee).role == Role.DEVELOPER


def test_it_accepts_the_address_case_insensitively(cast, client_for, mailoutbox):
    client_for(cast.owner).post("/o/acme/team/invite/", {"email": "Mixed@Case.test", "role": "20"})
    user = make_user("mixed@case.test")
    client_for(user).post(f"/invitations/{token_from(mailoutbox[-1])}/")
    assert _is_member(cast, user)


def test_it_refuses_another_email_address(cast, token, client_for):
    response = client_for(cast.outsider).post(f"/invitations/{token}/")
    assert response.status_code == 403
    assert not _is_member(cast, cast.outsider)


def test_it_refuses_an_expired_invitation(cast, token, invitee, client_for):
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client_for(invitee).post(f"/invitations/{token}/")
    assert response.status_code == 400 and b"expired" in response.content
    assert not _is_member(cast, invitee)


def test_it_refuses_a_second_use(cast, token, invitee, client_for):
    client = client_for(invitee)
    client.post(f"/invitations/{token}/")
    cast.membership(invitee).delete()  # even after leaving, the link stays spent
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 400 and b"already been used" in response.content
    assert not _is_member(cast, invitee)


def test_it_refuses_a_revoked_invitation(cast, token, invitee, client_for):
    invitation = Invitation.objects.get(email=INVITEE)
    client_for(cast.admin).post(f"/o/acme/team/invitations/{invitation.pk}/revoke/")
    response = client_for(invitee).post(f"/invitations/{token}/")
    assert response.status_code == 400
    assert not _is_member(cast, invitee)


def test_it_replaces_a_pending_invitation_when_reinviting(cast, token, invitee, client_for):
    client_for(cast.owner).post("/o/acme/team/invite/", {"email": INVITEE, "role": "60"})
    response = client_for(invitee).post(f"/invitations/{token}/")
    assert response.status_code == 400
    assert Invitation.objects.filter(email=INVITEE, revoked_at=None).get().role == Role.MANAGER


def test_it_sends_anonymous_visitors_with_an_account_to_log_in_first(
    cast, token, invitee, client_for
):
    response = client_for(None).post(f"/invitations/{token}/")
    assert response["Location"] == f"/login/?next=/invitations/{token}/"
    assert Invitation.objects.get(email=INVITEE).accepted_at is None


def test_it_answers_404_for_an_unknown_token(db, client_for):
    assert client_for(None).get("/invitations/not-a-token/").status_code == 404


def test_it_refuses_to_invite_an_existing_member_next_to_the_field(cast, client_for):
    response = client_for(cast.admin).post(
        "/o/acme/team/invite/", {"email": "viewer@acme.test", "role": "20"}
    )
    assert response.status_code == 400
    assert response.context["invite_form"].errors["email"] == [
        "viewer@acme.test is already a member."
    ]
    assert not Invitation.objects.exists()


def test_it_rejects_an_invalid_address_next_to_the_field(cast, client_for, mailoutbox):
    response = client_for(cast.admin).post("/o/acme/team/invite/", {"email": "nope", "role": "20"})
    assert "email" in response.context["invite_form"].errors
    assert not Invitation.objects.exists() and mailoutbox == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens here once the probe is closed


def test_it_saves_nothing_when_the_mail_server_refuses(cast, client_for, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    response = client_for(cast.admin).post("/o/acme/team/invite/", {"email": INVITEE, "role": "40"})
    assert response.status_code == 400 and b"could not be sent" in response.content
    assert not Invitation.objects.exists()
