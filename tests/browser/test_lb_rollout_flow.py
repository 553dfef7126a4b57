"""Issue 13's "done when", in a real Chromium: a Manager makes a server the site's load balancer,
picks the method, applies it, deploys, and watches each server drained and back live.

Everything is real: daphne, a Celery worker, two web hosts in network namespaces (sshd, nginx,
php-fpm), a git host, the balancer's nginx reached over SSH (fixtures of
tests/deployments/test_rolling_end_to_end.py). Screenshots deployment-rolling-<width>.png
(harness.py) at 1366 and 390 px.
"""

from __future__ import annotations

import os
import shlex
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from deployments.models import Deployment
from loadbalancers.models import LoadBalancer
from testbed.web import free_port
from tests.conftest import PASSWORD
from tests.deployments.test_rolling_end_to_end import (  # noqa: F401 (fixtures)
    balancer_nginx,
    fleet,
    fleet_site,
    lb_server,
)

pytestmark = [
    pytest.mark.browser, pytest.mark.ssh, pytest.mark.web, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]
PHASES = "return [...document.querySelectorAll('[data-server-phase]')].map(r => r.innerText" \
         ".replace(/\\s+/g, ' ').trim())"


def _type(browser, field: str, text: str) -> None:
    element = browser.driver.find_element(By.ID, f"id_{field}")
    element.clear()
    element.send_keys(text)


def _create_balancer(browser, nginx_) -> LoadBalancer:
    browser.get("/o/acme/load-balancers/new/")
    _type(browser, "name", "front")
    Select(browser.driver.find_element(By.ID, "id_server")).select_by_visible_text("lb-1")
    _type(browser, "conf_dir", str(nginx_.conf_dir))
    _type(browser, "log_dir", str(nginx_.log_dir))
    _type(browser, "test_command", shlex.join(nginx_.test_command))
    _type(browser, "reload_command", shlex.join(nginx_.reload_command))
    browser.driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    return browser.wait_for(lambda: LoadBalancer.objects.filter(name="front").first(), 10, "lb")


def _put_site_behind(browser, lb: LoadBalancer, site) -> None:
    browser.wait_for(lambda: f"/load-balancers/{lb.pk}/" in browser.driver.current_url)
    browser.driver.find_element(By.LINK_TEXT, site.name).click()
    Select(browser.driver.find_element(By.ID, "id_method")).select_by_value("least_conn")
    _type(browser, "listen_port", str(free_port()))
    _type(browser, "drain_seconds", "2")  # long enough for the page to show it drained
    browser.driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    browser.wait_for(lambda: "Least connections" in browser.driver.page_source, 10, "method")
    browser.driver.find_element(By.CSS_SELECTOR, "form[action$='/apply/'] button").click()
    browser.wait_for(lambda: "Config applied" in browser.driver.page_source, 30, "the apply")


def _watch_rollout(browser, site) -> tuple[Deployment, set[str]]:
    """Deploy from the site page; every panel row seen until the deployment has finished."""
    browser.get(f"/o/acme/sites/{site.pk}/")
    browser.site_deploy_button().click()
    seen: set[str] = set()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        seen.update(browser.driver.execute_script(PHASES))
        done = Deployment.objects.filter(site=site).first()
        if done is not None and done.is_finished:
            return done, seen
        time.sleep(0.1)
    raise AssertionError(f"the deploy did not finish; the page showed {sorted(seen)}")


def test_a_manager_creates_a_balancer_and_watches_a_rolling_deploy(
    browser, cast, fleet, fleet_site, lb_server, balancer_nginx,  # noqa: F811
    celery_worker_process,
):
    browser.login(cast.manager.email, PASSWORD)
    lb = _create_balancer(browser, balancer_nginx)
    _put_site_behind(browser, lb, fleet_site)
    deployment, seen = _watch_rollout(browser, fleet_site)
    names = sorted(host.name for host in fleet.hosts)
    live = [f"{name} Live enabled" for name in names]
    browser.wait_for(lambda: browser.driver.execute_script(PHASES) == live, 10, "all live")

    assert deployment.status == "succeeded", deployment.error
    assert {f"{name} Drained drained" for name in names} <= seen
    for width in (1366, 390):
        browser.driver.set_window_size(width, 1000)
        browser.driver.execute_script("document.querySelector('table.rollout').scrollIntoView()")
        browser.screenshot(f"deployment-rolling-{width}")
    assert browser.console_errors() == []
