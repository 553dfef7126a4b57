"""Sign-up, log-in by e-mail and the log-in rate limit (real Redis cache)."""

from __future__ import annotations

import pytest

from tenancy.models import Membership, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.redis


def test_it_creates_an_unverified_user_and_mails_a_link_on_signup(db, client, mailoutbox):
    # Sign-up no longer logs in nor creates an organization: the address is confirmed first
    # (tenancy/services/signup.py); the organization comes after, on /orgs/new/.
    response = client.post(
        "/signup/", {"name": "Ada", "email": "Ada@Example.test", "password": PASSWORD}
    )
    user = User.objects.get(email="ada@example.test")
    assert response["Location"] == "/signup/done/"
    assert not user.email_verified and not Membership.objects.filter(user=user).exists()
    assert "/signup/verify/" in mailoutbox[0].body


def test_it_logs_in_by_email(cast, client, fresh_rate_limits):
    response = client.post("/login/", {"username": "viewer@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/o/acme/team/").status_code == 200


def test_it_refuses_a_wrong_password(cast, client, fresh_rate_limits):
    response = client.post("/login/", {"username": "viewer@acme.test", "password": "wrong"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_it_answers_429_after_too_many_attempts(cast, client, settings, fresh_rate_limits):
    # A day-long window: the counter cannot roll over in the middle of the test.
    settings.LOGIN_RATE_LIMIT = "3/24h"
    bad = {"username": "viewer@acme.test", "password": "wrong"}
    statuses = [client.post("/login/", bad).status_code for _ in range(3)]
    good = client.post("/login/", {"username": "viewer@acme.test", "password": PASSWORD})
    assert statuses == [200, 200, 200]
    assert good.status_code == 429 and "_auth_user_id" not in client.session


def test_it_counts_attempts_per_address_across_clients(cast, client, settings, fresh_rate_limits):
    settings.LOGIN_RATE_LIMIT = "2/24h"
    for address in ("10.0.0.1", "10.0.0.2"):
        client.post(
            "/login/", {"username": "admin@acme.test", "password": "x"}, REMOTE_ADDR=address
        )
    response = client.post(
        "/login/", {"username": "admin@acme.test", "password": PASSWORD}, REMOTE_ADDR="10.0.0.3"
    )
    assert response.status_code == 429
    assert User.objects.filter(email="admin@acme.test").exists()


def test_it_returns_to_the_invitation_after_signing_up(db, client, mailoutbox):
    client.post("/signup/?next=/invitations/abc/", {
        "email": "new@x.test", "password": "a long enough passphrase",
        "next": "/invitations/abc/",
    })
    assert "next=%2Finvitations%2Fabc%2F" in mailoutbox[0].body


def test_it_ignores_an_offsite_next_after_signing_up(db, client, mailoutbox):
    client.post("/signup/", {
        "email": "new2@x.test", "password": "a long enough passphrase",
        "next": "https://evil.test/",
    })
    assert "evil.test" not in mailoutbox[0].body
