"""Issue 5 acceptance, deploying: real Chromium, daphne, Celery worker, sshd, nginx + php-fpm.

A Developer deploys with the Deploy button and watches the log arrive line by line, rolls back
from the history page, and keeps a complete log across a dropped socket. The test host serves
`<deploy_path>/current/public` through nginx + php-fpm, reloaded by the pipeline (SIGUSR2).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from deployments.events import send_status_sync
from deployments.models import Deployment, Kind, LogLine, Status
from testbed.web import SiteRoot, WebStack
from tests.browser.test_live_log import LOG, open_live_log, stored_log, wait_for_seq
from tests.conftest import PASSWORD
from tests.fixtures.live import make_deployment
from tests.fixtures.stage import Stage, finished, make_stage, wait_until

pytestmark = [
    pytest.mark.browser, pytest.mark.ssh, pytest.mark.web, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
TICKS = 'for i in $(seq 1 80); do echo "tick $i"; sleep 0.1; done'
TALL_PAGE = 1200  # px: header, steps and the log box in one screenshot


@pytest.fixture
def web(tmp_path: Path, sshd_host, web_stack_factory) -> WebStack:
    """nginx + php-fpm serving the deploy path `make_stage` uses for this test."""
    return web_stack_factory([SiteRoot(sshd_host.root / tmp_path.name / "site")])


@pytest.fixture
def make_site(cast, sshd_host, tmp_path: Path, web) -> Callable[[str], Stage]:
    """`make_site(deploy_script)`: a site deployed to the test host, reloading its php-fpm."""

    def make(deploy_script: str) -> Stage:
        return make_stage(cast, sshd_host, tmp_path, reload_method="php-fpm",
                          reload_command=list(web.reload_command), deploy_script=deploy_script)

    return make


def deployed(stage: Stage, *versions: str) -> list[Deployment]:
    """Deploy each version in turn through the worker; fail unless all succeeded."""
    rows = finished(*(stage.deploy(stage.release(version)) for version in versions))
    assert [row.status for row in rows] == [Status.SUCCEEDED] * len(rows), rows[-1].error
    return rows


def shown_texts(browser) -> list[str]:
    return [text for _, _, text in browser.log_lines()]


def serves(web: WebStack, release: str) -> bool:
    status, body = web.get("/")
    return status == 200 and f"release={release}".encode() in body


def click(browser, selector: str) -> None:
    browser.driver.find_element(By.CSS_SELECTOR, selector).click()


def tall_screenshot(browser, name: str, height: int = TALL_PAGE) -> None:
    """Screenshot with a taller window (the log sits below the fold), then restore the size."""
    size = browser.driver.get_window_size()
    browser.driver.set_window_size(size["width"], height)
    try:
        browser.screenshot(name)
    finally:
        browser.driver.set_window_size(size["width"], size["height"])


def test_it_shows_a_deploy_live_from_the_button_to_the_served_release(
    browser, cast, make_site, web, celery_worker_process
):
    stage = make_site("echo first; sleep 3; echo second")
    stage.release("1.0.0")
    browser.login(cast.developer.email, PASSWORD)
    browser.get(f"/o/acme/sites/{stage.site.pk}/")
    browser.site_deploy_button().click()
    browser.wait_for(lambda: "first" in shown_texts(browser), 60, '"first" on the page')
    deployment = Deployment.objects.get(site=stage.site)
    assert (deployment.status, "second" in shown_texts(browser)) == (Status.RUNNING, False)
    browser.driver.execute_script("window.sameDocument = true")  # gone if the page reloads
    badge = f'[data-deployment-status="{deployment.pk}"]'
    browser.wait_for(lambda: browser.text(badge) == "Succeeded", 60, "the Succeeded badge")
    deployment.refresh_from_db()
    # The facts panel follows too: the resolved commit replaces "main head (resolved …)".
    browser.wait_for(lambda: deployment.commit_sha in browser.text("dl.props"), 10, "the commit")
    tall_screenshot(browser, "deployment-succeeded")
    assert browser.driver.execute_script("return window.sameDocument === true")
    assert serves(web, deployment.release), web.get("/")


def test_it_rolls_back_from_the_history_page_and_the_host_serves_the_old_release(
    browser, cast, make_site, web, celery_worker_process
):
    first, second = deployed(make_site(""), "1.0.0", "2.0.0")
    assert serves(web, second.release)
    browser.login(cast.developer.email, PASSWORD)
    browser.get(f"/o/acme/sites/{first.site_id}/history/")
    click(browser, f"form[action$='/rollback/{first.release}/'] button")
    confirm = WebDriverWait(browser.driver, 10).until(expected_conditions.alert_is_present())
    confirm.accept()
    rollback = wait_until(lambda: Deployment.objects.filter(kind=Kind.ROLLBACK).first(), 10)
    [rollback] = finished(rollback)
    assert rollback.status == Status.SUCCEEDED, rollback.error
    assert serves(web, first.release), web.get("/")
    browser.get(f"/o/acme/sites/{first.site_id}/history/")
    browser.screenshot("history")


def test_it_keeps_the_log_complete_when_the_socket_drops_mid_deploy(
    browser, cast, make_site, celery_worker_process, daphne_server
):
    stage = make_site(TICKS)
    deployment = stage.deploy(stage.release("1.0.0"))
    open_live_log(browser, cast.developer, deployment)
    browser.wait_for(lambda: "tick 5" in shown_texts(browser), 60, '"tick 5" on the page')
    tall_screenshot(browser, "deployment-live")
    daphne_server.stop()
    browser.wait_for(lambda: browser.attribute(LOG, "data-connection") == "reconnecting")
    stored_at_drop = LogLine.objects.filter(deployment=deployment).count()
    # The deploy goes on printing while nobody listens: those lines exist only in the database.
    wait_until(lambda: LogLine.objects.filter(deployment=deployment).count() > stored_at_drop + 5)
    daphne_server.start()
    [deployment] = finished(deployment)
    wait_for_seq(browser, deployment.log_lines.order_by("seq").last().seq, timeout=30)
    assert deployment.status == Status.SUCCEEDED, deployment.error
    assert browser.log_lines() == stored_log(deployment)


def test_it_shows_a_status_that_changed_while_the_socket_was_down(browser, cast, daphne_server):
    deployment = make_deployment(cast.org, status=Status.RUNNING)
    open_live_log(browser, cast.developer, deployment)
    daphne_server.stop()
    browser.wait_for(lambda: browser.attribute(LOG, "data-connection") == "reconnecting")
    Deployment.objects.filter(pk=deployment.pk).update(status=Status.SUCCEEDED)
    send_status_sync(Deployment.objects.get(pk=deployment.pk))  # heard by no page
    daphne_server.start()
    browser.wait_for(lambda: browser.attribute(LOG, "data-connection") == "open", 30, "reconnect")
    badge = f'[data-deployment-status="{deployment.pk}"]'
    browser.wait_for(lambda: browser.text(badge) == "Succeeded", 10, "the Succeeded badge")
