"""A real headless Chromium driven by Selenium, pointed at a real daphne.

`Browser` wraps the driver with what tests need: open a path, log in through the /login/ form,
wait for a condition, read the live log as rendered, save a screenshot.

Screenshots go to var/screenshots/ (ignored by git), so `make test` leaves the tree clean. The
README's pictures in docs/screenshots/ are refreshed on purpose, by a run with
DEPLOYNIX_SCREENSHOTS=docs (e.g. `DEPLOYNIX_SCREENSHOTS=docs bash scripts/test.sh tests/browser`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIRS = {"var": ROOT / "var" / "screenshots", "docs": ROOT / "docs" / "screenshots"}


def screenshots_dir() -> Path:
    """Where Browser.screenshot() writes: DEPLOYNIX_SCREENSHOTS=docs|var (default var)."""
    choice = os.environ.get("DEPLOYNIX_SCREENSHOTS") or "var"
    if choice not in SCREENSHOT_DIRS:
        raise ValueError(f"DEPLOYNIX_SCREENSHOTS must be one of {sorted(SCREENSHOT_DIRS)}")
    return SCREENSHOT_DIRS[choice]


# Every line of the live log as (seq, server, visible text), read in one round trip.
READ_LOG = """
return Array.from(document.querySelectorAll('[data-live-log] .ln')).map(function (row) {
  var server = row.querySelector('.srv');
  return [parseInt(row.getAttribute('data-seq'), 10), server ? server.textContent : '',
          row.querySelector('.tx').textContent];
});
"""


def start_chromium(user_data_dir: Path) -> webdriver.Chrome:
    """Headless Chromium with no background traffic and a fresh profile."""
    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-dev-shm-usage", f"--user-data-dir={user_data_dir}", "--window-size=1280,900",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


SITE_DEPLOY_BUTTON = "form[action$='/deploy/'] button"
PLAN_LOADING = "[hx-get$='/plan/button/']"  # the site page's Deploy button before its plan


class Browser:
    """One Chromium session against `base_url` (a running daphne)."""

    def __init__(self, driver: webdriver.Chrome, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def get(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def login(self, email: str, password: str) -> None:
        """Log in through the real /login/ form and wait to land on a page behind it."""
        self.get("/login/")
        self.driver.find_element(By.NAME, "username").send_keys(email)
        self.driver.find_element(By.NAME, "password").send_keys(password)
        self.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        self.wait_for(lambda: "/login/" not in self.driver.current_url, message="login")

    def wait_for(self, condition: Callable[[], Any], timeout: float = 10, message: str = "") -> Any:
        """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = condition()
            except (StaleElementReferenceException, NoSuchElementException):
                result = None  # the page is being replaced (a form submit, a reload): poll again
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {message}")
            time.sleep(0.05)

    def site_deploy_button(self):
        """The site page's Deploy button once its plan has loaded: the page swaps the button for
        the plan fragment's (deployments/templates/deployments/_plan_button.html) after it
        loads, and a click on the element being replaced is lost (a stale element)."""
        self.wait_for(lambda: not self.driver.find_elements(By.CSS_SELECTOR, PLAN_LOADING),
                      60, "the Deploy button's plan")
        return self.driver.find_element(By.CSS_SELECTOR, SITE_DEPLOY_BUTTON)

    def text(self, selector: str) -> str:
        return self.driver.find_element(By.CSS_SELECTOR, selector).text

    def attribute(self, selector: str, name: str) -> str | None:
        return self.driver.find_element(By.CSS_SELECTOR, selector).get_attribute(name)

    def set_attribute(self, selector: str, name: str, value: str) -> None:
        """Set an attribute on the first element matching `selector` (to stand in for markup)."""
        self.driver.execute_script(
            "document.querySelector(arguments[0]).setAttribute(arguments[1], arguments[2])",
            selector, name, value,
        )

    def log_lines(self) -> list[tuple[int, str, str]]:
        """The live log as rendered: (seq, server, text without colour codes) per line."""
        return [tuple(row) for row in self.driver.execute_script(READ_LOG)]

    def console_errors(self) -> list[str]:
        """Severe browser console entries (JS errors, CSP violations) since the last call."""
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def screenshot(self, name: str) -> Path:
        """Save the current page as <name>.png in screenshots_dir()."""
        folder = screenshots_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path
