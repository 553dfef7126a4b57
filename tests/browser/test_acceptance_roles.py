"""Issue 5 acceptance, roles: what a Viewer, a demoted Developer and an outsider see in Chromium.

Buttons are hidden by the templates, but the rule lives in the views and consumers: forged
requests from the page itself are refused, and a socket to another organization gets nothing.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from deployments.models import Deployment, Status
from tenancy.roles import Role
from tests.browser.sinks import SinkDriver
from tests.browser.test_acceptance import click, make_site, shown_texts, web  # noqa: F401
from tests.browser.test_live_log import open_live_log
from tests.conftest import PASSWORD
from tests.fixtures.live import make_deployment
from tests.fixtures.stage import finished

pytestmark = [
    pytest.mark.browser, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
CONTROLS = ("form[action$='/deploy/']", "form[action*='/rollback/']", "form[action$='/cancel/']")

# POST to each URL from the page, with the page's own CSRF token; resolve to [[status, body]].
FORGE_POSTS = """
var urls = arguments[0], done = arguments[arguments.length - 1];
var token = document.querySelector('meta[name="csrf-token"]').content;
Promise.all(urls.map(function (url) {
  return fetch(url, {method: "POST", headers: {"X-CSRFToken": token}, redirect: "manual"})
    .then(function (r) { return r.text().then(function (body) { return [r.status, body]; }); });
})).then(done);
"""
# Open a socket from the page and count frames until the server closes it: [frames, code].
PROBE_SOCKET = """
var done = arguments[arguments.length - 1], frames = 0;
var socket = new WebSocket("ws://" + location.host + arguments[0]);
socket.onmessage = function () { frames += 1; };
socket.onclose = function (event) { done([frames, event.code]); };
"""


def controls_for(browser, user, *paths: str) -> int:
    """Log `user` in (a fresh session) and count the controls on `paths`."""
    browser.driver.delete_all_cookies()
    browser.login(user.email, PASSWORD)
    return controls_shown(browser, *paths)


def choose_role(browser, membership, label: str) -> None:
    """Pick `label` in the member's role select on the team page and submit it."""
    row = f"#member-{membership.pk}"
    Select(browser.driver.find_element(By.CSS_SELECTOR, f"{row} select")).select_by_visible_text(
        label
    )
    click(browser, f"{row} button[type=submit]")


def controls_shown(browser, *paths: str) -> int:
    """How many distinct Deploy/Rollback/Cancel actions the pages at `paths` offer (the history
    page offers a rollback both on its row and in the list of releases on the servers)."""
    actions = set()
    for path in paths:
        browser.get(path)
        for selector in CONTROLS:
            forms = browser.driver.find_elements(By.CSS_SELECTOR, selector)
            actions |= {form.get_attribute("action") for form in forms}
    return len(actions)


@pytest.mark.ssh
@pytest.mark.web
def test_it_shows_a_viewer_the_live_log_but_no_deploy_rollback_or_cancel(
    browser, cast, make_site, celery_worker_process  # noqa: F811
):
    stage = make_site("echo watching; sleep 4; echo done watching")
    [first] = finished(stage.deploy(stage.release("1.0.0")))
    second = stage.deploy(stage.release("2.0.0"))
    open_live_log(browser, cast.viewer, second)
    assert Deployment.objects.get(pk=second.pk).status in (Status.QUEUED, Status.RUNNING)
    browser.wait_for(lambda: "done watching" in shown_texts(browser), 60, "the live line")
    [second] = finished(second)
    pages = [f"/o/acme/sites/{first.site_id}/{page}" for page in ("", "history/")]
    # The developer proves the buttons are there to hide: Deploy, and Rollback to `first`.
    seen = [controls_for(browser, user, *pages) for user in (cast.viewer, cast.developer)]
    assert seen == [0, 2]


def test_it_refuses_a_viewers_forged_deploy_and_rollback_with_403(browser, cast):
    deployment = make_deployment(cast.org, status=Status.SUCCEEDED)
    site = f"/o/acme/sites/{deployment.site_id}"
    browser.login(cast.viewer.email, PASSWORD)
    browser.get(f"{site}/")
    urls = [f"{site}/deploy/", f"{site}/rollback/{deployment.release}/"]
    answers = browser.driver.execute_async_script(FORGE_POSTS, urls)
    assert [status for status, _ in answers] == [403, 403]
    assert not any("CSRF" in body for _, body in answers)  # refused for the role, not the token
    assert Deployment.objects.count() == 1


def test_it_hides_deploy_from_a_developer_an_admin_demotes_to_viewer(browser, cast):
    site = make_deployment(cast.org).site
    page = f"/o/acme/sites/{site.pk}/"
    assert controls_for(browser, cast.developer, page) == 1
    developer_session = browser.driver.get_cookies()
    controls_for(browser, cast.admin, "/o/acme/team/")
    choose_role(browser, cast.membership(cast.developer), "Viewer")
    browser.wait_for(lambda: f"{cast.developer.email} is now Viewer" in browser.text("body"))
    browser.screenshot("team")
    browser.driver.delete_all_cookies()
    for cookie in developer_session:  # the developer's own session, not a fresh login
        browser.driver.add_cookie(cookie)
    assert cast.membership(cast.developer).role == Role.VIEWER
    assert controls_shown(browser, page) == 0


def test_it_closes_an_outsiders_socket_to_another_orgs_deployment_without_a_frame(browser, cast):
    deployment = make_deployment(cast.org)
    SinkDriver(deployment.pk).lines("a line only Acme may read")
    browser.login(cast.outsider.email, PASSWORD)
    browser.driver.set_script_timeout(15)
    frames, _code = browser.driver.execute_async_script(
        PROBE_SOCKET, f"/ws/deployments/{deployment.pk}/?after=0"
    )
    assert frames == 0
