"""A big log in a real Chromium: the box keeps its newest lines, "Show earlier" pages back."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from deployments.templatetags.live import LOG_DOM_LINES
from deployments.views.log import EARLIER_PAGE, LOG_LINES_ON_PAGE
from tests.browser.sinks import SinkDriver
from tests.browser.test_live_log import LOG, open_live_log, wait_for_seq
from tests.fixtures.live import make_deployment

pytestmark = [
    pytest.mark.browser, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
EARLIER = "[data-log-earlier]"
STORED = LOG_LINES_ON_PAGE + 100  # before the page opens: more than it renders
LIVE = LOG_DOM_LINES + 1000  # after: more than the box keeps
PAGE_WIDER_THAN_WINDOW = "return document.documentElement.scrollWidth - window.innerWidth"


def seqs(browser) -> list[int]:
    return [seq for seq, _server, _text in browser.log_lines()]


def test_it_caps_the_live_log_and_brings_earlier_lines_back_on_demand(browser, cast):
    deployment = make_deployment(cast.org)
    sink = SinkDriver(deployment.pk)
    sink.lines(*(f"stored {n}" for n in range(1, STORED + 1)))
    open_live_log(browser, cast.developer, deployment)
    assert seqs(browser) == list(range(STORED - LOG_LINES_ON_PAGE + 1, STORED + 1))
    for start in range(0, LIVE, 250):  # many socket frames, as a fast deploy sends them
        sink.lines(*(f"live {n}" for n in range(start, start + 250)))
    last = STORED + LIVE
    wait_for_seq(browser, last)
    assert seqs(browser) == list(range(last - LOG_DOM_LINES + 1, last + 1))
    browser.driver.find_element(By.CSS_SELECTOR, EARLIER).click()
    first = last - LOG_DOM_LINES - EARLIER_PAGE + 1
    browser.wait_for(lambda: browser.attribute(LOG, "data-first-seq") == str(first), 10, "page")
    assert seqs(browser) == list(range(first, last + 1))
    assert browser.console_errors() == []


def test_it_hides_show_earlier_once_the_first_line_is_shown(browser, cast):
    deployment = make_deployment(cast.org)
    SinkDriver(deployment.pk).lines(*(f"stored {n}" for n in range(1, STORED + 1)))
    open_live_log(browser, cast.developer, deployment)
    for width in (1366, 390):  # the button and the box fit a laptop and a phone
        browser.driver.set_window_size(width, 900)
        button = browser.driver.find_element(By.CSS_SELECTOR, EARLIER)
        browser.driver.execute_script("arguments[0].scrollIntoView()", button)
        assert browser.driver.execute_script(PAGE_WIDER_THAN_WINDOW) <= 0, width
        browser.screenshot(f"log-show-earlier-{width}")
    browser.driver.set_window_size(1280, 900)
    browser.driver.find_element(By.CSS_SELECTOR, EARLIER).click()
    browser.wait_for(lambda: browser.attribute(LOG, "data-first-seq") == "1", 10, "first line")
    assert seqs(browser) == list(range(1, STORED + 1))
    assert not browser.driver.find_element(By.CSS_SELECTOR, EARLIER).is_displayed()
