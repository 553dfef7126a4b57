"""The plan page and a deployment's Changes panel in a real Chromium, at 1366 and 390 px: the
Deploy button says how many migrations are coming, the diff loads, no console error.

Screenshots: plan-*.png and deployment-changes-*.png (docs/screenshots/ with
DEPLOYNIX_SCREENSHOTS=docs, see tests/browser/harness.py).
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from deployments.models import Status
from tests.conftest import PASSWORD
from tests.deployments.test_plan import pending, run  # noqa: F401
from tests.deployments.test_release_intel import ADD_SLUG, DROP_TITLE, MIGRATIONS

pytestmark = [
    pytest.mark.browser, pytest.mark.ssh, pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]
WIDTHS = (1366, 390)


def shoot(browser, name: str, width: int) -> None:
    """A screenshot of the whole page at `width`."""
    browser.driver.set_window_size(width, 900)
    height = browser.driver.execute_script("return document.documentElement.scrollHeight")
    browser.driver.set_window_size(width, min(height + 120, 6000))
    browser.screenshot(f"{name}-{width}")


def test_the_plan_page_shows_the_migrations_on_the_deploy_button(browser, cast, stage,
                                                                 pending):  # noqa: F811
    browser.login(cast.developer.email, PASSWORD)
    browser.get(f"/o/acme/sites/{stage.site.pk}/plan/")
    assert browser.text("main form button[type=submit]") == "Deploy (3 migrations, 2 destructive)"
    for width in WIDTHS:
        shoot(browser, "plan", width)
    assert browser.console_errors() == []


def test_the_deployment_page_loads_its_changes(browser, cast, stage):
    run(stage.deploy(stage.release("1.0.0")))
    stage.repo.commit({f"{MIGRATIONS}2024_02_01_000000_drop_title.php": DROP_TITLE,
                       f"{MIGRATIONS}2024_02_03_000000_add_slug.php": ADD_SLUG,
                       "app/Post.php": "<?php\n"}, "Reshape posts")
    second = run(stage.deploy())
    assert second.status == Status.SUCCEEDED, second.error
    browser.login(cast.developer.email, PASSWORD)
    browser.get(f"/o/acme/deployments/{second.pk}/")
    browser.wait_for(lambda: browser.driver.find_elements(By.CSS_SELECTOR, "table.changes"), 30,
                     "the Changes panel")
    assert "dropColumn" in browser.text(".changes-list")
    for width in WIDTHS:
        shoot(browser, "deployment-changes", width)
    assert browser.console_errors() == []


def test_the_site_page_offers_plan_and_force_beside_deploy(browser, cast, stage):
    browser.login(cast.developer.email, PASSWORD)
    browser.get(f"/o/acme/sites/{stage.site.pk}/")
    assert browser.attribute("main a[href$='/plan/']", "href").endswith(
        f"/sites/{stage.site.pk}/plan/")
    assert browser.attribute("form[action$='/deploy/'] input[name=force]", "value") == "1"
    for width in WIDTHS:
        browser.driver.set_window_size(width, 900)
        browser.screenshot(f"site-deploy-controls-{width}")
    assert browser.console_errors() == []
