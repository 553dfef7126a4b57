"""The health gate end to end: the site's form, a real deploy through the worker whose release
fails only once live (rolled back), and its deployment page, seen at desktop and phone widths."""

from __future__ import annotations

import pytest

from deployments.models import Status
from sites.services import site_update
from tenancy.audit import Actor
from tests.browser.test_acceptance import deployed, make_site, serves, web  # noqa: F401
from tests.conftest import PASSWORD
from tests.deployments.pipeline.test_health_gate import FPM_ONLY_FAILURE
from tests.fixtures.stage import finished

pytestmark = [
    pytest.mark.browser, pytest.mark.ssh, pytest.mark.web, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
WIDTHS = {"desktop": 1366, "phone": 390}


def screenshots(browser, name: str, height: int = 1400) -> None:
    for label, width in WIDTHS.items():
        browser.driver.set_window_size(width, height)
        browser.screenshot(f"{name}-{label}")


def test_it_rolls_back_a_release_that_fails_once_live_and_shows_why(
    browser, cast, make_site, web, celery_worker_process  # noqa: F811
):
    stage = make_site("")
    site_update(site=stage.site, actor=Actor.system(), health_check_enabled=True,
                health_check_body="release=", health_check_address="127.0.0.1",
                health_check_port=web.http_port)
    [good] = deployed(stage, "1.0.0")
    (stage.deploy_path / "fpm-broken").touch()
    stage.repo.commit({"public/index.php": FPM_ONLY_FAILURE}, "Works only outside FPM")
    [bad] = finished(stage.deploy())
    assert (bad.status, bad.failed_step) == (Status.FAILED, "health_check_live")
    assert "health check failed after switch; rolled back: HTTP 503" in bad.error
    assert serves(web, good.release)
    browser.login(cast.developer.email, PASSWORD)
    browser.get(f"/o/acme/sites/{stage.site.pk}/edit/")
    browser.driver.execute_script("document.getElementById('health-check').scrollIntoView()")
    screenshots(browser, "site-health-check-form")
    browser.get(f"/o/acme/deployments/{bad.pk}/")
    browser.wait_for(lambda: any("FAILED" in line[2] for line in browser.log_lines()), 30,
                     "the probe's line")
    screenshots(browser, "deployment-health-failed", height=2000)
    assert browser.console_errors() == []
