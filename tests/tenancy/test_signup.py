"""Sign-up: no account is revealed, the address is verified, throttled, invite-only on demand."""

from __future__ import annotations

import re

import pytest

from tenancy.audit import Actor
from tenancy.models import AuditEvent, Membership, Organization, User
from tenancy.roles import Role
from tenancy.services.invitations import invitation_create
from tests.conftest import PASSWORD
from tests.tenancy.conftest import token_from

pytestmark = pytest.mark.redis

VERIFY = re.compile(r"(/signup/verify/[^/\s]+/)")


def sign_up(client, email: str, **extra):
    data = {"name": "N", "email": email, "password": "a long enough passphrase", **extra}
    return client.post("/signup/", data)


def verify_link(message) -> str:
    return VERIFY.search(message.body).group(1)


def test_the_answer_is_the_same_for_a_taken_address(cast, client, mailoutbox,
                                                    fresh_rate_limits):
    taken, new = sign_up(client, "viewer@acme.test"), sign_up(client, "fresh@acme.test")
    assert (taken.status_code, taken["Location"]) == (new.status_code, new["Location"])
    assert "already has an account" in mailoutbox[0].body
    assert "/signup/verify/" in mailoutbox[1].body
    assert User.objects.get(email="viewer@acme.test").check_password(PASSWORD)


def test_a_taken_address_in_another_spelling_is_still_taken(cast, client, mailoutbox,
                                                           fresh_rate_limits):
    sign_up(client, "VIEWER@acme.test")
    assert User.objects.filter(email__iexact="viewer@acme.test").count() == 1
    assert "already has an account" in mailoutbox[0].body


def test_it_is_throttled_per_address(db, client, settings, mailoutbox, fresh_rate_limits):
    settings.SIGNUP_RATE_LIMIT = "2/24h"
    statuses = [sign_up(client, f"u{n}@x.test").status_code for n in range(3)]
    assert statuses == [302, 302, 429] and not User.objects.filter(email="u2@x.test").exists()


def test_the_link_verifies_the_address(db, client, mailoutbox, fresh_rate_limits):
    sign_up(client, "ada@x.test")
    response = client.get(verify_link(mailoutbox[0]))
    user = User.objects.get(email="ada@x.test")
    assert response.status_code == 302 and user.email_verified
    assert AuditEvent.objects.filter(verb="account.email_verify", actor=user).exists()


def test_a_tampered_link_is_refused(db, client, mailoutbox, fresh_rate_limits):
    sign_up(client, "ada@x.test")
    link = verify_link(mailoutbox[0])
    response = client.get(link[:-3] + "xx/")
    assert response.status_code == 400
    assert not User.objects.get(email="ada@x.test").email_verified


def test_an_unverified_account_cannot_create_an_organization(db, client, mailoutbox,
                                                             fresh_rate_limits):
    sign_up(client, "ada@x.test")
    client.post("/login/", {"username": "ada@x.test", "password": "a long enough passphrase"})
    refused = client.post("/orgs/new/", {"name": "Ada Co"})
    assert refused.status_code == 400 and not Organization.objects.filter(name="Ada Co").exists()
    client.get(verify_link(mailoutbox[0]))
    assert client.post("/orgs/new/", {"name": "Ada Co"}).status_code == 302


def test_an_unverified_account_cannot_accept_an_invitation(cast, client, mailoutbox,
                                                           fresh_rate_limits):
    invitation_create(actor=Actor(user=cast.owner), organization=cast.org,
                      email="ada@x.test", role=Role.DEVELOPER)
    token = token_from(mailoutbox[0])
    sign_up(client, "ada@x.test", invitation=token)
    client.post("/login/", {"username": "ada@x.test", "password": "a long enough passphrase"})
    refused = client.post(f"/invitations/{token}/")
    assert refused.status_code == 400
    assert not Membership.objects.filter(user__email="ada@x.test").exists()


def test_invite_only_refuses_a_sign_up_without_an_invitation(db, client, settings,
                                                             fresh_rate_limits):
    settings.SIGNUP_INVITE_ONLY = True
    response = sign_up(client, "ada@x.test")
    assert response.status_code == 200 and b"by invitation only" in response.content
    assert not User.objects.filter(email="ada@x.test").exists()


def test_invite_only_accepts_the_invited_address_only(cast, client, settings, mailoutbox,
                                                      fresh_rate_limits):
    settings.SIGNUP_INVITE_ONLY = True
    invitation_create(actor=Actor(user=cast.owner), organization=cast.org,
                      email="ada@x.test", role=Role.DEVELOPER)
    token = token_from(mailoutbox[0])
    other = sign_up(client, "eve@x.test", invitation=token)
    invited = sign_up(client, "ada@x.test", invitation=token)
    assert other.status_code == 200 and not User.objects.filter(email="eve@x.test").exists()
    assert invited["Location"] == "/signup/done/"
    assert User.objects.filter(email="ada@x.test").exists()


def test_invite_only_lets_the_invited_address_create_its_account_on_the_invitation(
    cast, client, settings, mailoutbox, fresh_rate_limits
):
    settings.SIGNUP_INVITE_ONLY = True
    invitation_create(actor=Actor(user=cast.owner), organization=cast.org,
                      email="ada@x.test", role=Role.DEVELOPER)
    token = token_from(mailoutbox[0])
    client.post(f"/invitations/{token}/", {"password": "a long enough passphrase"})
    assert Membership.objects.filter(user__email="ada@x.test", organization=cast.org).exists()


def test_an_unverified_user_can_ask_for_a_new_link(db, client, mailoutbox, fresh_rate_limits):
    sign_up(client, "ada@x.test")
    client.post("/login/", {"username": "ada@x.test", "password": "a long enough passphrase"})
    client.post("/signup/verify/resend/")
    assert len(mailoutbox) == 2 and mailoutbox[1].to == ["ada@x.test"]
    client.get(verify_link(mailoutbox[1]))
    assert User.objects.get(email="ada@x.test").email_verified


def test_invite_only_says_so_on_the_sign_up_page(db, client, settings):
    settings.SIGNUP_INVITE_ONLY = True
    assert b"by invitation only" in client.get("/signup/").content
