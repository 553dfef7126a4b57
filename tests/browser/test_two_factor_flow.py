"""Two-factor end to end in Chromium: enrol with a code computed from the shown secret, log out,
log back in with the next code. Also saves the account pages at desktop and phone widths."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.conftest import PASSWORD
from tests.tenancy.otp import secret_from_text, totp_code

pytestmark = [
    pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True),
]

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}


def submit(browser, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        browser.driver.find_element(By.NAME, name).send_keys(value)
    browser.driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()


def shoot(browser, name: str) -> None:
    """Save the page at each width, and check nothing is wider than the phone's screen."""
    for label, size in WIDTHS.items():
        browser.driver.set_window_size(*size)
        browser.screenshot(f"{name}-{label}")
        inner, scroll = browser.driver.execute_script(
            "return [window.innerWidth, document.documentElement.scrollWidth]")
        assert scroll <= inner, f"{name} is {scroll}px wide in a {inner}px {label} window"
    browser.driver.set_window_size(1280, 900)


def test_it_enrols_then_logs_in_with_a_totp_code(browser, cast):
    browser.login(cast.admin.email, PASSWORD)
    browser.get("/account/two-factor/")
    shoot(browser, "two-factor-setup")
    secret = secret_from_text(browser.text("#totp-secret"))
    submit(browser, {"code": totp_code(secret)})
    browser.wait_for(lambda: "recovery codes" in browser.text("main h1"), message="codes")
    assert len(browser.text("#recovery-codes").split()) == 10
    shoot(browser, "two-factor-recovery-codes")
    browser.driver.find_element(By.CSS_SELECTOR, "header form button").click()
    browser.wait_for(lambda: "/login/" in browser.driver.current_url, message="logged out")
    submit(browser, {"username": cast.admin.email, "password": PASSWORD})
    browser.wait_for(lambda: "/login/code/" in browser.driver.current_url, message="code step")
    shoot(browser, "login-code")
    # The next step's code: the one used to enrol is spent for its 30 seconds.
    submit(browser, {"code": totp_code(secret, steps_ahead=1)})
    browser.wait_for(lambda: "/login/" not in browser.driver.current_url, message="logged in")
    browser.get("/account/")
    assert browser.text("main h1") == "Account"
    assert "on" in browser.text("dl.props")
    shoot(browser, "account")
    assert browser.console_errors() == []


@pytest.mark.parametrize("name, path", [
    ("signup", "/signup/"), ("password-reset", "/password-reset/"), ("login", "/login/"),
])
def test_the_public_account_pages_at_both_widths(browser, db, name, path):
    browser.get(path)
    shoot(browser, name)
    assert browser.console_errors() == []


def test_the_signed_in_account_pages_fit_both_widths(browser, cast):
    browser.login(cast.owner.email, PASSWORD)
    for name, path in [("password-change", "/account/password/"),
                       ("org-security", "/o/acme/settings/security/")]:
        browser.get(path)
        shoot(browser, name)
    assert browser.console_errors() == []
