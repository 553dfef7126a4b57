"""The environment editor in a real Chromium, at desktop and phone widths: a Developer pastes
a .env, reviews the rows, marks a variable secret and saves a new version; the site page then
says what changed since the live release and that it applies at the next deploy. Screenshots
of the editor and the site page's environment section go to var/screenshots/ (docs/ with
DEPLOYNIX_SCREENSHOTS=docs)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from deployments.models import Deployment, Status
from sites.selectors import env_version_latest
from tests.conftest import PASSWORD
from tests.fixtures.records import make_site, server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
PASTED = "export MAIL_HOST=smtp.example.test\nMAIL_PASSWORD='pa ss'\nAPP_DEBUG=true\n"
NO_OVERFLOW = "return document.documentElement.scrollWidth <= window.innerWidth"


def _with_live_release(site, cast) -> None:
    Deployment.objects.create(
        site=site, organization=cast.org, status=Status.SUCCEEDED, branch="main", number=1,
        triggered_by_name="test", release="20260101000000",
        env_version=env_version_latest(site=site),
    )


def _row_named(browser, name: str):
    for row in browser.driver.find_elements(By.CSS_SELECTOR, ".env-row:not(.env-head)"):
        if row.find_element(By.CSS_SELECTOR, "input[name$='-name']").get_attribute("value") == name:
            return row
    raise AssertionError(f"no row named {name}")


@pytest.mark.parametrize("width", [1366, 390])
def test_a_developer_imports_marks_secret_and_saves_a_version(browser, cast, make_site,  # noqa: F811
                                                              width):
    site = make_site(env={"APP_NAME": "Shop", "APP_DEBUG": "false"})
    _with_live_release(site, cast)
    browser.driver.set_window_size(width, 900)
    browser.login(cast.developer.email, PASSWORD)
    browser.get(f"/o/acme/sites/{site.pk}/")
    browser.driver.find_element(By.LINK_TEXT, "Edit environment").click()
    browser.wait_for(lambda: browser.driver.find_elements(By.ID, "env-import"), message="editor")
    browser.driver.find_element(By.NAME, "dotenv").send_keys(PASTED)
    browser.driver.find_element(By.CSS_SELECTOR, "#env-import button").click()
    browser.wait_for(lambda: "Read 3 variables" in browser.driver.page_source, message="import")
    secret = _row_named(browser, "MAIL_PASSWORD").find_element(By.CSS_SELECTOR, "[name$=-secret]")
    secret.click()
    browser.screenshot(f"site-environment-editor-{width}")
    assert browser.driver.execute_script(NO_OVERFLOW)
    browser.driver.find_element(By.CSS_SELECTOR, "#env-form button[type=submit]").click()
    browser.wait_for(lambda: "saved as version 2" in browser.driver.page_source, message="save")
    section = browser.driver.find_element(By.ID, "environment")
    browser.driver.execute_script("arguments[0].scrollIntoView()", section)
    browser.screenshot(f"site-environment-section-{width}")
    assert "changed since the live release: 3 keys" in section.text
    assert "applies at the next deploy" in section.text and "pa ss" not in section.text
    assert browser.driver.execute_script(NO_OVERFLOW) and browser.console_errors() == []
    assert env_version_latest(site=site).secret_env_names == ["MAIL_PASSWORD"]


@pytest.mark.parametrize("width", [1366, 390])
def test_a_manager_sets_a_hook_and_the_site_page_shows_it(browser, cast, make_site, width):  # noqa: F811
    site = make_site(deploy_script="php artisan about")
    browser.driver.set_window_size(width, 900)
    browser.login(cast.manager.email, PASSWORD)
    browser.get(f"/o/acme/sites/{site.pk}/")
    browser.driver.find_element(By.LINK_TEXT, "Edit hooks").click()
    script = browser.wait_for(lambda: browser.driver.find_element(By.NAME, "before_switch_script"),
                              message="the hooks form")
    script.send_keys("php artisan deploy:check")
    browser.screenshot(f"site-hooks-form-{width}")
    assert browser.driver.execute_script(NO_OVERFLOW)
    browser.driver.find_element(By.CSS_SELECTOR, "form button[type=submit].primary").click()
    browser.wait_for(lambda: "Hooks saved" in browser.driver.page_source, message="save")
    section = browser.driver.find_element(By.ID, "scripts")
    browser.driver.execute_script("arguments[0].scrollIntoView()", section)
    browser.screenshot(f"site-scripts-section-{width}")
    assert "Before switch" in section.text and "php artisan deploy:check" in section.text
    assert "php artisan about" in section.text and browser.console_errors() == []
