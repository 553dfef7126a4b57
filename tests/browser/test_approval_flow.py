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
