"""Approve on the deployment page in a real Chromium, the frozen site page, and the freeze
windows page, at 1366 and 390 px. Screenshots: approval-*, frozen-site-*, org-freezes-*."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By

from deployments.models import Deployment, Status, Trigger
from deployments.services import deployment_request
from sites.freezes import freeze_window_create
from sites.models import FreezeWindow
from tenancy.audit import Actor
from tenancy.roles import Role
from tests.conftest import PASSWORD

pytestmark = [
    pytest.mark.browser, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
WIDTHS = (1366, 390)
PAGE_WIDER_THAN_WINDOW = "return document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def sized(browser):
    yield lambda width: browser.driver.set_window_size(width, 900)
    browser.driver.set_window_size(1280, 900)


def shoot(browser, sized, name: str) -> None:
    for width in WIDTHS:
        sized(width)
        assert browser.driver.execute_script(PAGE_WIDER_THAN_WINDOW) <= 0, (name, width)
        browser.screenshot(f"{name}-{width}")


def test_a_manager_approves_a_deploy_on_its_page(browser, cast, site, sized):
    site.approval_role = Role.MANAGER
    site.save(update_fields=["approval_role"])
    deployment = deployment_request(site=site, actor=Actor(user=cast.developer),
                                    trigger=Trigger.MANUAL)
    browser.login(cast.manager.email, PASSWORD)
    browser.get(f"/o/acme/deployments/{deployment.pk}/")
    browser.wait_for(lambda: "Awaiting approval" in browser.text("#approval"), message="box")
    shoot(browser, sized, "approval")
    browser.driver.find_element(By.ID, "approve-deployment").click()
    browser.wait_for(lambda: "Approved" in browser.text(".flash"), message="flash")
    assert Deployment.objects.get(pk=deployment.pk).decided_by_name == cast.manager.email
    assert Deployment.objects.get(pk=deployment.pk).status in (
        Status.QUEUED, Status.RUNNING, Status.FAILED, Status.SUCCEEDED)
    assert not browser.driver.find_elements(By.ID, "approve-deployment")


def test_the_frozen_site_page_and_the_freeze_windows_page(browser, cast, site, sized):
    now = timezone.now()
    freeze_window_create(organization=cast.org, site=None, actor=Actor(user=cast.admin),
                         name="Black Friday", kind="once", starts_at=now - timedelta(minutes=1),
                         ends_at=now + timedelta(hours=3))
    later = (now.weekday() + 2) % 7  # a weekly window that is not active today
    freeze_window_create(organization=cast.org, site=site, actor=Actor(user=cast.manager),
                         name="Deploy-free evenings", kind="weekly", days=[later],
                         start_time=time(18), end_time=time(6), time_zone="Europe/Berlin")
    browser.login(cast.manager.email, PASSWORD)
    browser.get(f"/o/acme/sites/{site.pk}/")
    assert "Black Friday" in browser.text("#active-freeze")
    shoot(browser, sized, "frozen-site")
    browser.get("/o/acme/freezes/")
    assert "Black Friday" in browser.text("body")
    shoot(browser, sized, "org-freezes")


def test_a_manager_adds_a_weekly_site_window_through_the_form(browser, cast, site, sized):
    browser.login(cast.manager.email, PASSWORD)
    browser.get(f"/o/acme/sites/{site.pk}/#freezes")
    driver = browser.driver
    driver.find_element(By.CSS_SELECTOR, "#freezes summary").click()
    driver.find_element(By.NAME, "name").send_keys("Quiet nights")
    driver.find_element(By.CSS_SELECTOR, "input[name=kind][value=weekly]").click()
    driver.find_element(By.NAME, "time_zone").clear()
    driver.find_element(By.NAME, "time_zone").send_keys("Europe/Berlin")
    for day in ("0", "2"):
        driver.find_element(By.CSS_SELECTOR, f"input[name=days][value='{day}']").click()
    for name, value in (("start_time", "22:00"), ("end_time", "06:00")):
        driver.execute_script("arguments[0].value = arguments[1]",
                              driver.find_element(By.NAME, name), value)
    driver.execute_script("document.querySelector('#freezes summary').scrollIntoView()")
    shoot(browser, sized, "site-freeze-form")
    driver.find_element(By.CSS_SELECTOR, "#freezes form button[type=submit]").click()
    browser.wait_for(lambda: "Quiet nights" in browser.text("#freezes table"), message="row")
    assert "Mon, Wed 22:00–06:00 Europe/Berlin" in browser.text("#freezes table")
    assert FreezeWindow.objects.get().site_id == site.pk
