"""Two-factor: enrolment confirmed by a real code, the code step of log-in, recovery codes."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django_otp.plugins.otp_static.models import StaticToken

from tenancy.models import AuditEvent, AuthenticatorDevice
from tests.conftest import PASSWORD
from tests.tenancy.otp import confirmed_secret, pending_secret, totp_code

pytestmark = pytest.mark.redis

CODES = re.compile(r"\b[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}\b")


def enrol(client, user) -> list[str]:
    """Turn two-factor on through the pages; the recovery codes shown."""
    client.get("/account/two-factor/")
    response = client.post("/account/two-factor/",
                           {"code": totp_code(pending_secret(user))})
    assert response.status_code == 200
    return CODES.findall(response.content.decode())


def password_step(client, user):
    client.logout()
    return client.post("/login/", {"username": user.email, "password": PASSWORD})


def test_it_enables_two_factor_only_with_a_right_code(cast, client_for):
    client = client_for(cast.developer)
    client.get("/account/two-factor/")
    wrong = client.post("/account/two-factor/", {"code": "000000"})
    assert wrong.status_code == 400
    assert not AuthenticatorDevice.objects.filter(user=cast.developer, confirmed=True).exists()
    codes = enrol(client, cast.developer)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert AuditEvent.objects.filter(actor=cast.developer, verb="account.two_factor_enable",
                                     organization=None).exists()


def test_it_stores_recovery_codes_only_as_digests(cast, client_for):
    codes = enrol(client_for(cast.developer), cast.developer)
    stored = set(StaticToken.objects.values_list("token", flat=True))
    plain = {c.replace("-", "") for c in codes} | set(codes)
    assert len(stored) == 10 and not stored & plain


def test_it_asks_for_the_code_after_the_password(cast, client_for, fresh_rate_limits):
    client = client_for(cast.developer)
    enrol(client, cast.developer)
    response = password_step(client, cast.developer)
    assert response["Location"] == "/login/code/" and "_auth_user_id" not in client.session
    response = client.post("/login/code/",
                           {"code": totp_code(confirmed_secret(cast.developer), steps_ahead=1)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.developer.pk)


def test_it_refuses_a_wrong_code_and_a_replayed_one(cast, client_for, fresh_rate_limits):
    client = client_for(cast.developer)
    client.get("/account/two-factor/")
    used = totp_code(pending_secret(cast.developer))
    client.post("/account/two-factor/", {"code": used})
    password_step(client, cast.developer)
    # The very code that enrolled (not "this step's code": a step may have passed since).
    replay = client.post("/login/code/", {"code": used})
    wrong = client.post("/login/code/", {"code": "123456"})
    assert (replay.status_code, wrong.status_code) == (400, 400)
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_works_once(cast, client_for, fresh_rate_limits):
    client = client_for(cast.developer)
    code = enrol(client, cast.developer)[0]
    password_step(client, cast.developer)
    first = client.post("/login/code/", {"code": code.upper()})
    assert first.status_code == 302
    password_step(client, cast.developer)
    again = client.post("/login/code/", {"code": code})
    assert again.status_code == 400 and "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(verb="account.recovery_code_use").count() == 1


def test_the_code_step_ends_after_five_wrong_codes(cast, client_for, fresh_rate_limits):
    client = client_for(cast.developer)
    enrol(client, cast.developer)
    password_step(client, cast.developer)
    for _ in range(5):
        client.post("/login/code/", {"code": "111111"})
    right = totp_code(confirmed_secret(cast.developer), steps_ahead=1)
    response = client.post("/login/code/", {"code": right})
    assert response["Location"] == "/login/" and "_auth_user_id" not in client.session


def test_the_code_step_needs_the_password_step_first(cast, client):
    response = client.post("/login/code/", {"code": "123456"})
    assert response["Location"] == "/login/"


def test_disabling_needs_the_password(cast, client_for):
    client = client_for(cast.developer)
    enrol(client, cast.developer)
    client.post("/account/two-factor/disable/", {"password": "wrong"})
    assert AuthenticatorDevice.objects.filter(user=cast.developer, confirmed=True).exists()
    client.post("/account/two-factor/disable/", {"password": PASSWORD})
    assert not AuthenticatorDevice.objects.filter(user=cast.developer).exists()
    assert AuditEvent.objects.filter(verb="account.two_factor_disable").exists()


def test_new_recovery_codes_replace_the_old_ones(cast, client_for, fresh_rate_limits):
    client = client_for(cast.developer)
    old = enrol(client, cast.developer)
    response = client.post("/account/two-factor/recovery-codes/", {"password": PASSWORD})
    new = CODES.findall(response.content.decode())
    assert len(new) == 10 and not set(old) & set(new)
    password_step(client, cast.developer)
    assert client.post("/login/code/", {"code": old[0]}).status_code == 400


def test_wrong_passwords_on_the_account_pages_lock_like_log_ins(cast, client_for, settings,
                                                                fresh_rate_limits):
    # A stolen session must not become a way to guess the password (turn off 2FA, new codes).
    settings.LOGIN_RATE_LIMIT = "3/24h"
    client = client_for(cast.developer)
    enrol(client, cast.developer)
    for _ in range(3):
        client.post("/account/two-factor/disable/", {"password": "guess"})
    client.post("/account/two-factor/disable/", {"password": PASSWORD})
    assert AuthenticatorDevice.objects.filter(user=cast.developer, confirmed=True).exists()
    locked = password_step(client, cast.developer)
    assert locked.status_code == 429


def test_the_authenticator_secret_is_encrypted_at_rest(cast, client_for):
    client = client_for(cast.developer)
    enrol(client, cast.developer)
    secret = AuthenticatorDevice.objects.get(user=cast.developer).bin_key
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_hex FROM deploynix_authenticatordevice")
        (stored,) = cursor.fetchone()
    assert secret.hex() not in stored and len(secret) == 20
