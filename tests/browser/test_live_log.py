"""The live log in a real Chromium, fed by the real sink through the Redis channel layer."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from deployments.ansi import strip_ansi
from deployments.events import send_status_sync
from deployments.models import LogLine
from tests.browser.sinks import SinkDriver
from tests.conftest import PASSWORD
from tests.fixtures.live import make_deployment

pytestmark = [
    pytest.mark.browser, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
LOG = "[data-live-log]"
COMPOSER_OUTPUT = (
    "\x1b[32mInstalling dependencies from lock file\x1b[39m",
    "Verifying lock file contents can be installed on current platform.",
    "Package operations: 3 installs, 0 updates, 0 removals",
    "  - Installing \x1b[32mpsr/log\x1b[39m (\x1b[33m3.0.0\x1b[39m): Extracting archive",
    "  - Installing \x1b[32mmonolog/monolog\x1b[39m (\x1b[33m3.5.0\x1b[39m): Extracting archive",
    "\x1b[1;33mWarning:\x1b[0m The lock file is not up to date with composer.json",
    "Generating optimized autoload files",
)


def stored_log(deployment) -> list[tuple[int, str, str]]:
    rows = LogLine.objects.filter(deployment=deployment).order_by("seq")
    return [(row.seq, row.server, strip_ansi(row.text)) for row in rows]


def open_live_log(browser, user, deployment) -> None:
    browser.login(user.email, PASSWORD)
    browser.get(f"/o/acme/deployments/{deployment.pk}/")
    browser.wait_for(lambda: browser.attribute(LOG, "data-connection") == "open", message="socket")


def wait_for_seq(browser, seq: int, timeout: float = 10) -> None:
    browser.wait_for(lambda: browser.attribute(LOG, "data-last-seq") == str(seq), timeout, f"{seq}")


def test_it_logs_a_developer_in_and_shows_the_dashboard(browser, cast):
    browser.login(cast.developer.email, PASSWORD)
    browser.screenshot("dashboard")
    assert browser.text("main h1") == "Acme"


def test_it_runs_the_pages_without_console_errors(browser, cast):
    deployment = make_deployment(cast.org)
    open_live_log(browser, cast.developer, deployment)
    assert browser.console_errors() == []


def test_it_shows_lines_sent_through_the_channel_layer(browser, cast):
    deployment = make_deployment(cast.org)
    sink = SinkDriver(deployment.pk)
    sink.lines("stored before the page opened")
    open_live_log(browser, cast.developer, deployment)
    sink.lines("== fetch_code", stream="info")
    sink.lines("\x1b[32mCloning\x1b[0m into release", "<img src=x onerror=alert(1)>", stream="err")
    wait_for_seq(browser, 4)
    assert browser.log_lines() == stored_log(deployment)
    assert browser.text(".log .ln.step .tx") == "== fetch_code"
    assert browser.text(".log .ln .ansi-green") == "Cloning"


def test_it_updates_step_badges_and_colours_a_real_looking_deploy(browser, cast):
    deployment = make_deployment(cast.org)
    sink = SinkDriver(deployment.pk)
    sink.step_started("install")
    sink.lines("== install (composer install --no-dev)", stream="info")
    open_live_log(browser, cast.developer, deployment)
    mark_steps_table(browser, deployment)
    sink.lines(*COMPOSER_OUTPUT)
    sink.step_finished("install")
    sink.step_started("migrate")
    sink.lines("== migrate (php artisan migrate --force)", stream="info")
    sink.lines("\x1b[32mINFO\x1b[39m  Nothing to migrate.")
    badge = f'[data-step-status="{deployment.pk}/install/web1"]'
    browser.wait_for(lambda: browser.text(badge) == "Succeeded", message="step badge")
    wait_for_seq(browser, len(COMPOSER_OUTPUT) + 3)
    browser.screenshot("live-log")
    assert browser.text(f'[data-deployment-progress="{deployment.pk}"]') == "migrate on web1"
    assert browser.text(f'[data-step-status="{deployment.pk}/migrate/web1"]') == "Running"


def mark_steps_table(browser, deployment) -> None:
    """The template itself marks the steps table (no longer patched by the test)."""
    steps_table = f'[data-deployment-steps="{deployment.pk}"]'
    assert browser.driver.find_elements("css selector", steps_table)


def test_it_updates_the_status_badge_live(browser, cast):
    deployment = make_deployment(cast.org)
    open_live_log(browser, cast.developer, deployment)
    cancel = "form[action$='/cancel/']"
    deployment.status = "succeeded"
    send_status_sync(deployment)
    badge = f'[data-deployment-status="{deployment.pk}"]'
    browser.wait_for(lambda: browser.text(badge) == "Succeeded", message="badge")
    assert browser.attribute(badge, "class") == "badge succeeded"
    assert not browser.driver.find_element(By.CSS_SELECTOR, cancel).is_displayed()


def test_it_updates_badges_of_a_list_through_the_organization_socket(browser, cast):
    deployment = make_deployment(cast.org)
    browser.login(cast.viewer.email, PASSWORD)
    browser.get("/o/acme/deployments/")
    live = "[data-org-live]"
    browser.wait_for(lambda: browser.attribute(live, "data-connection") == "open", message="socket")
    deployment.status = "failed"
    send_status_sync(deployment)
    badge = f'[data-deployment-status="{deployment.pk}"]'
    browser.wait_for(lambda: browser.text(badge) == "Failed", message="badge")
    assert browser.attribute(badge, "class") == "badge failed"


def test_it_keeps_the_reader_where_they_scrolled(browser, cast):
    deployment = make_deployment(cast.org)
    sink = SinkDriver(deployment.pk)
    open_live_log(browser, cast.developer, deployment)
    sink.lines(*(f"line {n}" for n in range(200)))
    wait_for_seq(browser, 200)
    browser.driver.execute_script(f"document.querySelector('{LOG}').scrollTop = 0")
    sink.lines("one more")
    wait_for_seq(browser, 201)
    assert browser.driver.execute_script(f"return document.querySelector('{LOG}').scrollTop") == 0


def test_it_follows_new_lines_while_the_reader_is_at_the_bottom(browser, cast):
    deployment = make_deployment(cast.org)
    sink = SinkDriver(deployment.pk)
    open_live_log(browser, cast.developer, deployment)
    sink.lines(*(f"line {n}" for n in range(200)))
    wait_for_seq(browser, 200)
    sink.lines("one more")
    wait_for_seq(browser, 201)
    gap = browser.driver.execute_script(
        f"var b = document.querySelector('{LOG}');"
        " return b.scrollHeight - b.scrollTop - b.clientHeight"
    )
    assert gap <= 8


def test_it_reconnects_after_a_server_restart_and_misses_no_line(browser, cast, daphne_server):
    deployment = make_deployment(cast.org)
    sink = SinkDriver(deployment.pk)
    sink.lines("first", "second")
    open_live_log(browser, cast.developer, deployment)
    daphne_server.stop()
    browser.wait_for(lambda: browser.attribute(LOG, "data-connection") == "reconnecting")
    sink.lines(*(f"while the server was down {n}" for n in range(5)))  # stored, heard by no one
    daphne_server.start()
    sink.lines("after the restart")
    wait_for_seq(browser, 8, timeout=30)
    assert browser.log_lines() == stored_log(deployment)
    assert len(browser.driver.find_elements(By.CSS_SELECTOR, ".log .ln")) == 8


def test_it_adds_a_new_deployment_to_the_dashboard_without_a_reload(browser, cast):
    first = make_deployment(cast.org, status="succeeded")
    browser.login(cast.viewer.email, PASSWORD)
    browser.get("/o/acme/")
    browser.wait_for(lambda: browser.attribute("[data-org-live]", "data-connection") == "open",
                     message="socket")
    from deployments.models import Deployment

    second = Deployment.objects.create(site=first.site, organization=cast.org, branch="main",
                                       status="running", triggered_by_name="test")
    send_status_sync(second)
    row = f'[data-deployment-status="{second.pk}"]'
    browser.wait_for(lambda: browser.driver.find_elements(By.CSS_SELECTOR, row), message="new row")
    assert browser.text(row) == "Running"
