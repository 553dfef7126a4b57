"""A manager applies a balancer from its page in a real Chromium against a real daphne; the
balancer page and the site section are screenshotted at desktop and phone widths."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from loadbalancers.models import LoadBalancer
from tests.browser.conftest import browser, chromium  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.ssh, pytest.mark.web, pytest.mark.slow,
              pytest.mark.django_db(transaction=True)]
WIDTHS = {"desktop": (1366, 1400), "phone": (390, 2400)}


def _shoot(browser, name: str) -> None:  # noqa: F811
    for label, (width, height) in WIDTHS.items():
        browser.driver.set_window_size(width, height)
        browser.screenshot(f"{name}-{label}")
    browser.driver.set_window_size(1280, 900)


def test_a_manager_applies_the_config_from_the_page(
    browser, cast, balancer, add_web_server, make_lb_site, front_site  # noqa: F811
):
    webs = [add_web_server("web-1", "10.0.0.11"), add_web_server("web-2", "10.0.0.12")]
    site = make_lb_site(webs)
    front_site(site, [{"server": webs[0].pk, "weight": 3}, {"server": webs[1].pk, "drained": True}],
               method="least_conn", listen_port=18766)
    browser.login(cast.manager.email, PASSWORD)
    browser.get(f"/o/acme/load-balancers/{balancer.pk}/")
    browser.driver.find_element(By.CSS_SELECTOR, "form[action$='/apply/'] button").click()
    browser.wait_for(lambda: "Config applied" in browser.driver.page_source, 30, "the apply")
    assert LoadBalancer.objects.get(pk=balancer.pk).apply_status == "applied"
    browser.driver.find_element(By.CSS_SELECTOR, "form[action$='/check/'] button").click()
    browser.wait_for(lambda: "nginx reads" in browser.driver.page_source, 30, "the check")
    assert browser.console_errors() == []
    _shoot(browser, "load-balancer")
    browser.get(f"/o/acme/sites/{site.pk}/")
    browser.driver.execute_script("document.getElementById('load-balancers').scrollIntoView()")
    _shoot(browser, "site-load-balancers")
    browser.get(f"/o/acme/load-balancers/{balancer.pk}/sites/{site.pk}/")
    _shoot(browser, "load-balancer-site-form")
