"""Password reset by e-mail: the same answer for any address, links from PUBLIC_URL, throttled."""

from __future__ import annotations

import re

import pytest

from tenancy.audit import Actor
from tenancy.models import AuditEvent, User
from tenancy.services.two_factor import totp_pending, two_factor_enable
from tests.tenancy.logins import logged_in
from tests.tenancy.otp import totp_code

pytestmark = pytest.mark.redis

LINK = re.compile(r"(/password-reset/[^/\s]+/[^/\s]+/)")
NEW = "a brand new passphrase 42"


def ask(client, email: str, **extra):
    return client.post("/password-reset/", {"email": email}, **extra)


def test_the_answer_is_the_same_for_known_and_unknown_addresses(cast, client, mailoutbox,
                                                                 fresh_rate_limits):
    known, unknown = ask(client, "viewer@acme.test"), ask(client, "nobody@acme.test")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [m.to for m in mailoutbox] == [["viewer@acme.test"]]


def test_the_link_is_built_from_the_public_url_not_the_host_header(
    cast, client, mailoutbox, settings, fresh_rate_limits
):
    settings.ALLOWED_HOSTS = ["*"]
    settings.PUBLIC_URL = "https://deploy.example.test"
    ask(client, "viewer@acme.test", HTTP_HOST="evil.test")
    assert "https://deploy.example.test/password-reset/" in mailoutbox[0].body
    assert "evil.test" not in mailoutbox[0].body


def test_a_variant_spelling_finds_the_account(cast, client, mailoutbox, fresh_rate_limits):
    ask(client, " VIEWER@acme.test")
    assert [m.to for m in mailoutbox] == [["viewer@acme.test"]]


def test_the_link_sets_the_password_and_ends_every_session(cast, client, mailoutbox,
                                                           fresh_rate_limits):
    other = logged_in(cast.viewer, agent="Phone", address="10.2.2.2")
    ask(client, "viewer@acme.test")
    link = LINK.search(mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert User.objects.get(pk=cast.viewer.pk).check_password(NEW)
    assert other.get("/account/").status_code == 302
    assert AuditEvent.objects.filter(verb="account.password_reset", actor=cast.viewer).exists()


def test_a_reset_link_proves_the_address(db, client, mailoutbox, fresh_rate_limits):
    user = User.objects.create_user(email="new@x.test", password="x", email_verified=False)
    ask(client, "new@x.test")
    page = client.get(LINK.search(mailoutbox[0].body).group(1), follow=True)
    client.post(page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    user.refresh_from_db()
    assert user.email_verified


def test_it_is_throttled_per_address(cast, client, settings, mailoutbox, fresh_rate_limits):
    settings.PASSWORD_RESET_RATE_LIMIT = "2/24h"
    statuses = [ask(client, f"user{n}@acme.test").status_code for n in range(3)]
    assert statuses == [302, 302, 429]


def test_it_is_throttled_per_account(cast, client, settings, mailoutbox, fresh_rate_limits):
    settings.PASSWORD_RESET_RATE_LIMIT = "2/24h"
    for n in range(3):
        ask(client, "viewer@acme.test", REMOTE_ADDR=f"10.0.0.{n + 1}")
    assert len(mailoutbox) == 2


def test_a_reset_does_not_skip_the_second_factor(cast, client, mailoutbox, fresh_rate_limits):
    device = totp_pending(cast.viewer)
    two_factor_enable(actor=Actor(user=cast.viewer), user=cast.viewer,
                      code=totp_code(device.bin_key))
    ask(client, "viewer@acme.test")
    page = client.get(LINK.search(mailoutbox[0].body).group(1), follow=True)
    client.post(page.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    response = client.post("/login/", {"username": "viewer@acme.test", "password": NEW})
    assert response["Location"] == "/login/code/" and "_auth_user_id" not in client.session
