"""An invited person without an account: opens the link, sees the address filled in, chooses a
password, and lands in the inviting organization (real Chromium, real daphne)."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By

from tenancy.models import Invitation
from tenancy.roles import Role
from tenancy.services.invitations import token_hash

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.slow,
              pytest.mark.django_db(transaction=True)]


@pytest.fixture
def link(cast) -> str:
    """A pending invitation for ada@new.test as Developer (its token, as the e-mail would hold)."""
    token = secrets.token_urlsafe(32)
    Invitation.objects.create(
        organization=cast.org, email="ada@new.test", role=Role.DEVELOPER, invited_by=cast.admin,
        token_hash=token_hash(token), created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=7),
    )
    return f"/invitations/{token}/"


def test_an_invited_person_creates_the_account_and_lands_in_the_organization(browser, link):
    browser.driver.set_window_size(390, 900)
    try:
        browser.get(link)
        assert browser.attribute("#id_invited_email", "value") == "ada@new.test"
        assert browser.driver.execute_script("return document.documentElement.scrollWidth") <= 390
        browser.screenshot("invitation-390")
        browser.driver.find_element(By.NAME, "password").send_keys("correct horse battery")
        browser.driver.find_element(By.CSS_SELECTOR, "form.invitation-signup button").click()
        browser.wait_for(lambda: browser.text("main h1") == "Acme", message="the dashboard")
    finally:
        browser.driver.set_window_size(1280, 900)
    assert browser.console_errors() == []
