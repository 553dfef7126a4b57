"""The log-in throttle counts an account by the identity authentication uses, and only failures.

Before the fix the per-account counter was keyed on the raw form field while authentication
normalized it: "VIEWER@acme.test", " viewer@acme.test " or full-width letters each opened a fresh
counter for the same account; and every successful log-in counted against the client address.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.signals import user_login_failed

from tests.conftest import PASSWORD

pytestmark = pytest.mark.redis

VARIANTS = [
    "VIEWER@ACME.TEST",
    "  viewer@acme.test  ",
    "ｖｉｅｗｅｒ@ａｃｍｅ.ｔｅｓｔ",  # full-width: NFKC folds it to viewer@acme.test
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_it_logs_in_with_a_variant_spelling_of_the_address(cast, client, fresh_rate_limits,
                                                           variant):
    response = client.post("/login/", {"username": variant, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.viewer.pk)


def test_it_locks_the_account_whatever_spelling_the_failures_used(
    cast, client, settings, fresh_rate_limits
):
    settings.LOGIN_RATE_LIMIT = "3/24h"
    # From a different address each time: only the per-account counter can lock.
    for n, variant in enumerate(VARIANTS):
        client.post("/login/", {"username": variant, "password": "wrong"},
                    REMOTE_ADDR=f"10.0.0.{n + 1}")
    for n, variant in enumerate(VARIANTS + ["viewer@acme.test"]):
        response = client.post("/login/", {"username": variant, "password": PASSWORD},
                               REMOTE_ADDR=f"10.0.1.{n + 1}")
        assert response.status_code == 429, variant
    assert "_auth_user_id" not in client.session


def test_it_does_not_count_successful_log_ins_against_the_address(
    cast, client, settings, fresh_rate_limits
):
    # A team behind one NAT address logging in all morning must not lock itself out.
    settings.LOGIN_RATE_LIMIT = settings.LOGIN_IP_RATE_LIMIT = "2/24h"
    statuses = []
    for user in (cast.owner, cast.admin, cast.manager, cast.developer, cast.viewer):
        client.logout()
        statuses.append(
            client.post("/login/", {"username": user.email, "password": PASSWORD}).status_code
        )
    assert statuses == [302] * 5


def test_it_counts_failures_per_address_across_accounts(cast, client, settings, fresh_rate_limits):
    settings.LOGIN_IP_RATE_LIMIT = "2/24h"
    for user in (cast.owner, cast.admin):
        client.post("/login/", {"username": user.email, "password": "wrong"})
    response = client.post("/login/", {"username": cast.viewer.email, "password": PASSWORD})
    assert response.status_code == 429 and "_auth_user_id" not in client.session


def test_a_lock_on_one_account_leaves_the_others_alone(cast, client, settings, fresh_rate_limits):
    settings.LOGIN_RATE_LIMIT = "2/24h"
    for _ in range(2):
        client.post("/login/", {"username": cast.viewer.email, "password": "wrong"})
    response = client.post("/login/", {"username": cast.admin.email, "password": PASSWORD})
    assert response.status_code == 302


def test_a_locked_account_does_not_even_check_the_password(cast, client, settings,
                                                           fresh_rate_limits):
    settings.LOGIN_RATE_LIMIT = "1/24h"
    client.post("/login/", {"username": cast.viewer.email, "password": "wrong"})
    checked = []
    user_login_failed.connect(checked.append, dispatch_uid="probe")
    try:
        response = client.post("/login/", {"username": cast.viewer.email, "password": "wrong"})
    finally:
        user_login_failed.disconnect(dispatch_uid="probe")
    assert response.status_code == 429 and checked == []
    assert b"Too many attempts" in response.content


def test_an_overlong_password_is_refused_without_hashing(cast, client, fresh_rate_limits):
    checked = []
    user_login_failed.connect(checked.append, dispatch_uid="probe")
    try:
        response = client.post("/login/", {"username": cast.viewer.email, "password": "x" * 5000})
    finally:
        user_login_failed.disconnect(dispatch_uid="probe")
    assert response.status_code == 200 and checked == []
    assert b"at most 256 characters" in response.content
