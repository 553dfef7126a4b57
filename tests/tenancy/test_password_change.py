"""Password change: the current password is required; this session stays, the others end."""

from __future__ import annotations

import pytest

from tenancy.models import AuditEvent
from tests.conftest import PASSWORD
from tests.tenancy.logins import logged_in

pytestmark = pytest.mark.redis

NEW = "a brand new passphrase 42"


def change(client, old: str):
    return client.post("/account/password/", {
        "old_password": old, "new_password1": NEW, "new_password2": NEW,
    })


def test_it_refuses_without_the_current_password(cast, fresh_rate_limits):
    client = logged_in(cast.developer, agent="Laptop", address="10.1.1.1")
    response = change(client, "not my password")
    cast.developer.refresh_from_db()
    assert response.status_code == 200 and cast.developer.check_password(PASSWORD)


def test_it_keeps_this_session_and_ends_the_others(cast, fresh_rate_limits):
    laptop = logged_in(cast.developer, agent="Laptop", address="10.1.1.1")
    phone = logged_in(cast.developer, agent="Phone", address="10.2.2.2")
    assert change(laptop, PASSWORD)["Location"] == "/account/"
    assert laptop.get("/account/").status_code == 200
    assert phone.get("/account/").status_code == 302
    page = laptop.get("/account/").content.decode()
    assert "Laptop" in page and "Phone" not in page  # the list follows the cycled key


def test_it_is_audited_as_an_account_event(cast, fresh_rate_limits):
    change(logged_in(cast.developer, agent="Laptop", address="10.1.1.1"), PASSWORD)
    event = AuditEvent.objects.get(verb="account.password_change")
    assert (event.actor, event.organization, event.ip) == (cast.developer, None, "10.1.1.1")
