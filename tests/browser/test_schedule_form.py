"""The schedule form in a real Chromium: typing a cron expression previews it in words and its
next runs (htmx), and a repeat is scheduled from the form."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from schedules.models import ScheduledDeploy
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.slow,
              pytest.mark.django_db(transaction=True)]


def test_typing_a_cron_expression_previews_it_and_schedules_the_repeat(browser, cast, site):
    browser.login(cast.developer.email, PASSWORD)
    browser.get(f"/o/acme/sites/{site.pk}/schedules/new/")
    browser.driver.find_element(By.NAME, "run_at").clear()
    browser.driver.find_element(By.NAME, "cron").send_keys("0 6 * * 1-5")
    browser.wait_for(lambda: "Monday through Friday" in browser.text("#cron-preview"),
                     message="the preview")
    browser.driver.find_element(By.CSS_SELECTOR, ".schedule-form button[type=submit]").click()
    browser.wait_for(lambda: "/schedules/new/" not in browser.driver.current_url, message="saved")
    assert ScheduledDeploy.objects.get().cron == "0 6 * * 1-5"
    assert browser.console_errors() == []
