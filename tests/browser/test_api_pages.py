"""The tokens, webhook and API docs pages in a real headless Chromium behind real daphne:
they work with the strict CSP (no inline scripts or styles: the console stays clean)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tenancy.services.tokens import api_token_authenticate
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_creates_a_token_on_the_page_and_shows_it_once(browser, cast, tmp_path):
    browser.login(cast.developer.email, PASSWORD)
    browser.get("/tokens/")
    find = browser.driver.find_element
    find(By.NAME, "name").send_keys("laptop")
    find(By.CSS_SELECTOR, "input[name=abilities][value='site:deploy']").click()
    find(By.CSS_SELECTOR, "form:not([action]) button[type=submit]").click()
    browser.wait_for(lambda: browser.driver.find_elements(By.ID, "new-token"), message="token")
    browser.driver.save_screenshot(str(tmp_path / "tokens.png"))
    assert api_token_authenticate(browser.text("#new-token")).token.abilities == ["site:deploy"]
    assert browser.console_errors() == []


def test_it_shows_the_webhook_page_and_api_docs_without_console_errors(
    browser, cast, site, tmp_path
):
    browser.login(cast.developer.email, PASSWORD)
    browser.get(f"/o/acme/sites/{site.pk}/webhook/")
    browser.driver.save_screenshot(str(tmp_path / "webhook.png"))
    # The secret is revealed on purpose (an htmx POST), never part of the page.
    browser.driver.find_element(By.CSS_SELECTOR, "form[action$='/webhook/reveal/'] button").click()
    browser.wait_for(lambda: browser.text("#webhook-secret").startswith("whsec_"))
    browser.get("/api/v1/docs/")
    browser.driver.save_screenshot(str(tmp_path / "docs.png"))
    assert browser.console_errors() == []
