"""Every main page at a phone's width (390 px): the navigation folds into a Menu button that opens
it, and no page is wider than the screen. At a laptop's width (1366 px) the navigation is inline.
Screenshots of the pages at both widths: <page>-1366.png, <page>-390.png (tests/browser/harness.py
says where they go)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By

from deployments.models import Deployment, Status
from schedules.services import schedule_create
from tenancy.audit import Actor
from tests.browser.sinks import SinkDriver
from tests.conftest import PASSWORD
from tests.deployments.history_rows import build_history

pytestmark = [
    pytest.mark.browser, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
PAGE_WIDTH = "return document.documentElement.scrollWidth"
VISIBLE = "return !!(arguments[0].offsetWidth || arguments[0].offsetHeight)"


@pytest.fixture
def sized(browser):
    """Set the window's width; the shared Chromium gets its usual size back afterwards."""
    yield lambda width: browser.driver.set_window_size(width, 900)
    browser.driver.set_window_size(1280, 900)


def _running_deployment(site) -> Deployment:
    """A running deployment of `site` with a few steps and log lines (rows and the real sink)."""
    deployment = Deployment.objects.create(
        site=site, organization_id=site.organization_id, number=5, branch="main",
        status=Status.RUNNING, triggered_by_name="owner@acme.test", release="20260105000000",
        started_at=timezone.now(), commit_sha="e" * 40, commit_message="Ship the new checkout",
    )
    sink = SinkDriver(deployment.pk)
    sink.step_started("prepare")
    sink.lines("Preparing releases/20260105000000")
    sink.step_finished("prepare")
    sink.step_started("fetch_code")
    sink.lines("Cloning into bare repository 'repo'...", "HEAD is now at eeeeeee Ship it",
               stream="err")
    return deployment


def _pages(site, deployment: Deployment) -> dict[str, str]:
    return {
        "dashboard": "/o/acme/",
        "site": f"/o/acme/sites/{site.pk}/",
        "live-deployment": f"/o/acme/deployments/{deployment.pk}/",
        "history": f"/o/acme/sites/{site.pk}/history/",
        "team": "/o/acme/team/",
        "settings": "/o/acme/settings/security/",
        "servers": "/o/acme/servers/",
        "schedules": f"/o/acme/sites/{site.pk}/schedules/",
        "schedule-form": f"/o/acme/sites/{site.pk}/schedules/new/",
        "site-form": f"/o/acme/sites/{site.pk}/edit/",
    }


@pytest.fixture
def tour(cast, site):
    cast.org.time_zone = "Europe/Berlin"
    cast.org.save(update_fields=["time_zone"])
    build_history(site)
    schedule_create(site=site, actor=Actor(user=cast.owner), cron="0 6 * * 1-5")
    return _pages(site, _running_deployment(site))


def _nav_link(browser):
    return browser.driver.find_element(By.CSS_SELECTOR, ".mainnav a[href='/o/acme/team/']")


def _visible(browser, element) -> bool:
    return browser.driver.execute_script(VISIBLE, element)


def test_no_page_is_wider_than_a_phone(browser, cast, tour, sized):
    browser.login(cast.owner.email, PASSWORD)
    sized(390)
    widths = {}
    for name, path in tour.items():
        browser.get(path)
        widths[name] = browser.driver.execute_script(PAGE_WIDTH)
        browser.screenshot(f"{name}-390")
    assert {name: w for name, w in widths.items() if w > 390} == {}
    assert browser.console_errors() == []


def test_the_navigation_folds_into_a_menu_on_a_phone(browser, cast, tour, sized):
    browser.login(cast.owner.email, PASSWORD)
    sized(390)
    browser.get("/o/acme/")
    menu = browser.driver.find_element(By.CSS_SELECTOR, ".menu-toggle")
    assert not _visible(browser, _nav_link(browser)) and _visible(browser, menu)
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    _nav_link(browser).click()
    browser.wait_for(lambda: browser.text("main h1") == "Team", message="team page")


def test_the_navigation_is_inline_on_a_laptop(browser, cast, tour, sized):
    browser.login(cast.owner.email, PASSWORD)
    sized(1366)
    for name in ("dashboard", "site", "live-deployment", "history", "team", "settings",
                 "site-form", "schedule-form"):
        browser.get(tour[name])
        browser.screenshot(f"{name}-1366")
    menu = browser.driver.find_element(By.CSS_SELECTOR, ".menu-toggle")
    assert _visible(browser, _nav_link(browser)) and not _visible(browser, menu)
