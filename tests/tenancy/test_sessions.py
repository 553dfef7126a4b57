"""The session list: who is logged in where, ending one session or all the others."""

from __future__ import annotations

import pytest

from tenancy.models import AuditEvent, UserSession
from tests.tenancy.logins import logged_in

pytestmark = pytest.mark.redis


def test_it_lists_sessions_with_device_address_and_the_current_one(cast, fresh_rate_limits):
    laptop = logged_in(cast.developer, agent="Laptop Firefox", address="10.1.1.1")
    logged_in(cast.developer, agent="Phone Safari", address="10.2.2.2")
    page = laptop.get("/account/").content.decode()
    assert "Laptop Firefox" in page and "Phone Safari" in page and "10.2.2.2" in page
    assert page.count("this session") == 1


def test_revoking_a_session_logs_that_browser_out(cast, fresh_rate_limits):
    laptop = logged_in(cast.developer, agent="Laptop", address="10.1.1.1")
    phone = logged_in(cast.developer, agent="Phone", address="10.2.2.2")
    row = UserSession.objects.get(user=cast.developer, user_agent="Phone")
    laptop.post(f"/account/sessions/{row.pk}/revoke/")
    assert phone.get("/account/").status_code == 302  # back to the log-in page
    assert laptop.get("/account/").status_code == 200
    assert AuditEvent.objects.filter(verb="account.sessions_revoke", actor=cast.developer).exists()


def test_log_out_all_other_sessions_keeps_this_one(cast, fresh_rate_limits):
    laptop = logged_in(cast.developer, agent="Laptop", address="10.1.1.1")
    others = [logged_in(cast.developer, agent=f"B{n}", address="10.2.2.2") for n in range(2)]
    laptop.post("/account/sessions/revoke-others/")
    assert [c.get("/account/").status_code for c in others] == [302, 302]
    assert laptop.get("/account/").status_code == 200
    assert list(UserSession.objects.filter(user=cast.developer).values_list(
        "user_agent", flat=True)) == ["Laptop"]


def test_nobody_ends_another_users_session(cast, fresh_rate_limits):
    victim = logged_in(cast.admin, agent="Victim", address="10.1.1.1")
    attacker = logged_in(cast.developer, agent="Attacker", address="10.2.2.2")
    row = UserSession.objects.get(user=cast.admin)
    attacker.post(f"/account/sessions/{row.pk}/revoke/")
    assert victim.get("/account/").status_code == 200


def test_the_current_session_is_not_revoked_by_id(cast, fresh_rate_limits):
    laptop = logged_in(cast.developer, agent="Laptop", address="10.1.1.1")
    row = UserSession.objects.get(user=cast.developer)
    laptop.post(f"/account/sessions/{row.pk}/revoke/")
    assert laptop.get("/account/").status_code == 200


def test_the_account_page_needs_a_log_in(client):
    assert client.get("/account/")["Location"].startswith("/login/")


def test_logging_out_removes_the_session_from_the_list(cast, fresh_rate_limits):
    laptop = logged_in(cast.developer, agent="Laptop", address="10.1.1.1")
    phone = logged_in(cast.developer, agent="Phone", address="10.2.2.2")
    phone.post("/logout/")
    assert "Phone" not in laptop.get("/account/").content.decode()
    assert not UserSession.objects.filter(user_agent="Phone").exists()
