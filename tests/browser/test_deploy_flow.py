"""A whole deploy watched in the browser: Deploy button → real worker over real sshd → live log."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from deployments.models import Deployment, LogLine
from tests.browser.test_live_log import LOG, stored_log
from tests.conftest import PASSWORD
from tests.fixtures.stage import make_stage

pytestmark = [
    pytest.mark.browser, pytest.mark.ssh, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def finished_deployment(site) -> Deployment | None:
    deployment = Deployment.objects.filter(site=site).first()
    return deployment if deployment is not None and deployment.is_finished else None


def test_it_follows_a_real_deploy_live_from_the_deploy_button(
    browser, cast, sshd_host, tmp_path, celery_worker_process
):
    stage = make_stage(cast, sshd_host, tmp_path)
    stage.release("1.0.0")
    browser.login(cast.developer.email, PASSWORD)
    browser.get(f"/o/acme/sites/{stage.site.pk}/")
    browser.site_deploy_button().click()
    browser.wait_for(lambda: browser.driver.find_elements(By.CSS_SELECTOR, LOG), message="log")
    # The worker's part first (its log explains a failure), then what the browser shows of it.
    deployment = browser.wait_for(lambda: finished_deployment(stage.site), 120, "the deploy")
    badge = f'[data-deployment-status="{deployment.pk}"]'
    browser.wait_for(lambda: browser.text(badge) == deployment.get_status_display(), 10, "badge")
    last = LogLine.objects.filter(deployment=deployment).order_by("-seq").first().seq
    browser.wait_for(lambda: browser.attribute(LOG, "data-last-seq") == str(last), 10, "last line")
    browser.screenshot("deploy-finished")
    assert deployment.status == "succeeded", deployment.error
    assert browser.log_lines() == stored_log(deployment)
    browser.get("/o/acme/")
    browser.screenshot("dashboard-after-deploy")
