"""Browser fixtures: one headless Chromium per run, a fresh cookie jar per test.

Tests here need committed data (daphne reads it from another process): mark them
`django_db(transaction=True)`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.harness import Browser, start_chromium


@pytest.fixture(scope="session")
def chromium(tmp_path_factory) -> Iterator:
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium, daphne_server) -> Browser:
    """The shared Chromium, logged out, pointed at the running daphne."""
    if not daphne_server.alive():  # an earlier test stopped it and failed before restarting
        daphne_server.start()
    browser = Browser(chromium, daphne_server.url)
    browser.get("/login/")
    chromium.delete_all_cookies()
    browser.console_errors()  # start each test with an empty console
    return browser
