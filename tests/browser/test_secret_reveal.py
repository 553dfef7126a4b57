"""A Developer reveals one secret on the site page (htmx POST, strict CSP), at desktop and
phone widths; screenshots go to var/screenshots/ for a person to look at."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.conftest import PASSWORD
from tests.fixtures.records import make_site, server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
SECRET = "k3J9xQ2vLp8RtZ4mWc7N"


@pytest.mark.parametrize("width", [1366, 390])
def test_a_developer_reveals_one_secret_on_the_site_page(browser, cast, make_site, width):  # noqa: F811
    site = make_site(env={"APP_ENV": "production", "STRIPE_SECRET": SECRET})
    browser.driver.set_window_size(width, 900)
    browser.login(cast.developer.email, PASSWORD)
    browser.get(f"/o/acme/sites/{site.pk}/")
    assert SECRET not in browser.driver.page_source
    reveal = browser.driver.find_element(
        By.CSS_SELECTOR, "form[action$='/env/STRIPE_SECRET/reveal/'] button"
    )
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", reveal)
    browser.screenshot(f"site-secrets-masked-{width}")
    reveal.click()
    browser.wait_for(lambda: SECRET in browser.text(".secret-value"), message="the revealed value")
    browser.screenshot(f"site-secrets-revealed-{width}")
    assert "/reveal/" not in browser.driver.current_url  # swapped in place by htmx
    assert browser.console_errors() == []
