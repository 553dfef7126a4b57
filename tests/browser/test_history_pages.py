"""The live deployment page, the history, deployment and site pages in a real Chromium, at a
laptop's width (1366 px) and a phone's (390 px). Screenshots: <page>-1366.png, <page>-390.png."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from deployments.events import send_status_sync
from tests.browser.sinks import SinkDriver
from tests.conftest import PASSWORD
from tests.deployments.history_rows import build_history
from tests.fixtures.live import make_deployment

pytestmark = [
    pytest.mark.browser, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
WIDTHS = (1366, 390)
LOG = "[data-live-log]"
PAGE_WIDER_THAN_WINDOW = "return document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def sized(browser):
    """Set the window's width; the shared Chromium gets its usual size back afterwards."""
    yield lambda width: browser.driver.set_window_size(width, 900)
    browser.driver.set_window_size(1280, 900)


def _color(browser, selector: str) -> str:
    element = browser.driver.find_element(By.CSS_SELECTOR, selector)
    return browser.driver.execute_script("return getComputedStyle(arguments[0]).color", element)


def test_the_live_page_fills_steps_and_caption_and_leaves_stderr_uncoloured(browser, cast, sized):
    deployment = make_deployment(cast.org)
    sink = SinkDriver(deployment.pk)
    browser.login(cast.developer.email, PASSWORD)
    browser.get(f"/o/acme/deployments/{deployment.pk}/")
    browser.wait_for(lambda: browser.attribute(LOG, "data-connection") == "open", message="socket")
    sink.step_started("fetch_code")
    sink.lines("ordinary output")
    sink.lines("Cloning into bare repository 'repo'...", stream="err")
    sink.step_finished("fetch_code", "failed", exit_code=128)
    row = f'[data-step-status="{deployment.pk}/fetch_code/web1"]'
    browser.wait_for(lambda: browser.text(row) == "Failed", message="step badge")
    cells = "[data-deployment-steps] tr:last-child "
    browser.wait_for(lambda: browser.text(cells + "[data-step-exit]") == "128", message="exit")
    assert browser.text(cells + "[data-step-duration]").endswith("s")
    assert _color(browser, '[data-seq="2"]') == _color(browser, '[data-seq="1"]')
    deployment.status = "succeeded"
    send_status_sync(deployment)
    caption = f'[data-deployment-progress="{deployment.pk}"]'
    browser.wait_for(lambda: browser.text(caption) == "Finished: every step succeeded.",
                     message="caption")
    for width in WIDTHS:
        sized(width)
        browser.screenshot(f"live-deployment-{width}")
    assert browser.console_errors() == []


def test_history_deployment_and_site_pages_fit_a_laptop_and_a_phone(browser, cast, site, sized):
    rows = build_history(site)
    browser.login(cast.developer.email, PASSWORD)
    pages = {
        "history": f"/o/acme/sites/{site.pk}/history/",
        "failed-deployment": f"/o/acme/deployments/{rows['failed'].pk}/",
        "site": f"/o/acme/sites/{site.pk}/",
    }
    for width in WIDTHS:
        sized(width)
        for name, path in pages.items():
            browser.get(path)
            assert browser.driver.execute_script(PAGE_WIDER_THAN_WINDOW) <= 0, (name, width)
            browser.screenshot(f"{name}-{width}")
        browser.get(pages["history"])
        if width == 1366:  # the history table fits its card without scrolling
            assert browser.driver.execute_script(
                "var box = document.querySelector('table.history').parentElement;"
                "return box.scrollWidth - box.clientWidth") <= 0
        _assert_reachable(browser, f"form[action$='/rollback/{rows['third'].release}/'] button")
    assert browser.console_errors() == []


def test_a_long_error_wraps_inside_its_card(browser, cast, site, sized):
    failed = build_history(site)["failed"]
    browser.login(cast.developer.email, PASSWORD)
    for width in WIDTHS:
        sized(width)
        browser.get(f"/o/acme/deployments/{failed.pk}/")
        spill = browser.driver.execute_script(
            "var pre = document.querySelector('dd.error pre'), card = pre.closest('.panel');"
            "return pre.getBoundingClientRect().right - card.getBoundingClientRect().right")
        assert spill <= 0, width


def _assert_reachable(browser, selector: str) -> None:
    """Scrolled to, the element is on screen and nothing covers its middle."""
    element = browser.driver.find_element(By.CSS_SELECTOR, selector)
    assert browser.driver.execute_script(
        "var el = arguments[0]; el.scrollIntoView({block: 'center', inline: 'center'});"
        "var r = el.getBoundingClientRect();"
        "if (r.left < 0 || r.right > window.innerWidth) { return false; }"
        "var hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
        "return hit === el || el.contains(hit);", element)
