"""The deployment page's servers panel (phases, balancer state) as a browser renders it, at a
desktop and a phone width; screenshots deployment-rollout-<width>.png (harness.py)."""

from __future__ import annotations

import pytest

from deployments.models import Deployment, DeploymentStep
from loadbalancers.services import balanced_site_set, load_balancer_create
from servers.models import Server
from tenancy.audit import Actor
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

STEPS = [("web-1", "drain", "succeeded"), ("web-1", "activate", "succeeded"),
         ("web-1", "health_check_live", "succeeded"), ("web-1", "enable", "succeeded"),
         ("web-2", "drain", "succeeded"), ("web-2", "activate", "running")]


def test_the_servers_panel_shows_phases_and_the_balancer(browser, cast, site, add_server):
    site.servers.add(add_server(name="web-2", host="127.0.0.2"))
    lb = load_balancer_create(
        org=cast.org, actor=Actor(user=cast.owner), name="front",
        server=Server.objects.create(organization=cast.org, name="lb-1", host="10.0.0.1"))
    balanced_site_set(load_balancer=lb, actor=Actor(user=cast.owner), site=site,
                      backends=[{"server": s.pk} for s in site.servers.all()],
                      rolling={"canary": True})
    deployment = Deployment.objects.create(site=site, organization=cast.org, branch="main",
                                           status="running", release="20300101000000")
    first, second = sorted(s.name for s in site.servers.all())
    for order, (server, step, status) in enumerate(STEPS):
        DeploymentStep.objects.create(deployment=deployment, order=order, name=step,
                                      status=status,
                                      server=first if server == "web-1" else second)
    browser.login(cast.viewer.email, PASSWORD)

    for width in (1366, 390):
        browser.driver.set_window_size(width, 900)
        browser.get(f"/o/acme/deployments/{deployment.pk}/")
        rows = browser.driver.execute_script(
            "return [...document.querySelectorAll('[data-server-phase]')]"
            ".map(r => r.innerText.replace(/\\s+/g, ' ').trim())")
        browser.driver.execute_script("document.querySelector('table.rollout').scrollIntoView()")
        browser.screenshot(f"deployment-rollout-{width}")
        assert rows == [f"{first} Live enabled", f"{second} Switching drained"]
    assert "canary weight 1" in browser.text("main")
    assert browser.console_errors() == []
