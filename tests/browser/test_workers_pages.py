"""A manager adds a worker from the site page in a real Chromium; the site page, the worker
form and the server form fit a laptop (1366 px) and a phone (390 px).
Screenshots: workers-<page>-<width>.png."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from sites.models import Worker
from sites.services import worker_create
from tenancy.audit import Actor
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
WIDTHS = (1366, 390)
PAGE_WIDER_THAN_WINDOW = "return document.documentElement.scrollWidth - window.innerWidth"
COMMAND = "php artisan queue:work redis --sleep=3 --tries=3 --max-time=3600 --queue=high,default"


@pytest.fixture
def sized(browser):
    yield lambda width: browser.driver.set_window_size(width, 900)
    browser.driver.set_window_size(1280, 900)


def test_a_manager_adds_a_worker_from_the_site_page(browser, cast, site):
    browser.login(cast.manager.email, PASSWORD)
    browser.get(f"/o/acme/sites/{site.pk}/")
    browser.driver.find_element(By.LINK_TEXT, "Add worker").click()
    browser.driver.find_element(By.NAME, "name").send_keys("queue")
    browser.driver.find_element(By.NAME, "command").send_keys(COMMAND)
    browser.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    browser.wait_for(lambda: f"/sites/{site.pk}/" in browser.driver.current_url
                     and "workers/new" not in browser.driver.current_url, message="saved")
    assert Worker.objects.get(site=site).command == COMMAND
    assert COMMAND in browser.text("#workers")
    assert browser.console_errors() == []


def test_the_worker_pages_fit_a_laptop_and_a_phone(browser, cast, site, server, sized):
    worker = worker_create(site=site, actor=Actor(user=cast.manager), name="queue",
                           command=COMMAND, processes=3)
    worker_create(site=site, actor=Actor(user=cast.manager), name="octane", kind="octane",
                  octane_server="frankenphp")
    browser.login(cast.manager.email, PASSWORD)
    pages = {
        "site": f"/o/acme/sites/{site.pk}/#workers",
        "form": f"/o/acme/sites/{site.pk}/workers/{worker.pk}/edit/",
        "server-form": f"/o/acme/servers/{server.pk}/edit/",
    }
    for width in WIDTHS:
        sized(width)
        for name, path in pages.items():
            browser.get(path)
            assert browser.driver.execute_script(PAGE_WIDER_THAN_WINDOW) <= 0, (name, width)
            browser.screenshot(f"workers-{name}-{width}")
    assert browser.console_errors() == []
