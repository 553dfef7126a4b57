"""The site page's Deploy button in a real Chromium: it loads the plan after the page and says
the migration count, and a deploy with destructive migrations needs its confirmation ticked.

Screenshots: site-plan-button-*.png (docs/screenshots/ with DEPLOYNIX_SCREENSHOTS=docs).
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from deployments.models import Deployment
from tests.conftest import PASSWORD
from tests.deployments import test_plan

pytestmark = [
    pytest.mark.browser, pytest.mark.ssh, pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]
pending = test_plan.pending  # v1 live, v2 with three migrations (two destructive) in the mirror
BUTTON = "#plan-button button[type=submit]"
CONFIRM = "#plan-button input[name=confirm_destructive]"


def open_site_page(browser, cast, stage) -> None:
    browser.login(cast.developer.email, PASSWORD)
    browser.get(f"/o/acme/sites/{stage.site.pk}/")
    browser.wait_for(lambda: browser.driver.find_elements(By.CSS_SELECTOR, BUTTON), 30,
                     "the plan on the Deploy button")


def test_the_deploy_button_says_the_migrations_coming(browser, cast, stage, pending):
    open_site_page(browser, cast, stage)
    assert browser.text(BUTTON) == (f"Deploy {pending[1][:7]} — 1 commit, 3 migrations "
                                    "(2 destructive)")
    for width in (1366, 390):
        browser.driver.set_window_size(width, 900)
        browser.screenshot(f"site-plan-button-{width}")
    assert browser.console_errors() == []


def test_a_destructive_deploy_needs_the_confirmation(browser, cast, stage, pending):
    open_site_page(browser, cast, stage)
    before = Deployment.objects.count()
    browser.driver.find_element(By.CSS_SELECTOR, BUTTON).click()
    assert browser.driver.execute_script(
        "return document.querySelector(arguments[0]).validity.valueMissing", CONFIRM)
    assert Deployment.objects.count() == before
    browser.driver.find_element(By.CSS_SELECTOR, CONFIRM).click()
    browser.driver.find_element(By.CSS_SELECTOR, BUTTON).click()
    browser.wait_for(lambda: "/deployments/" in browser.driver.current_url, 30, "the deployment")
    assert Deployment.objects.latest("id").commit_sha == pending[1]  # the planned commit
