"""The issue's "done when": on a bare Debian host with only sshd, nginx and php-fpm, a Manager
adds the server, creates a site, clicks Provision, then Deploy, and the site is served."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from deployments.models import Deployment, Kind
from servers.models import OrganizationKey, Server
from sites.models import Site
from testbed.gitrepo import AppRepo
from tests.conftest import PASSWORD
from tests.fixtures.stage import NO_BUILD_TOOLS

pytestmark = [
    pytest.mark.browser, pytest.mark.ssh, pytest.mark.web, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def _fill(browser, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = browser.driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)


def _finished(site, kind: str) -> Deployment | None:
    row = Deployment.objects.filter(site=site, kind=kind).first()
    return row if row is not None and row.is_finished else None


def _submit(browser, selector: str) -> None:
    button = browser.driver.find_element(By.CSS_SELECTOR, selector)
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()


def _shots(browser, name: str, selector: str = "h1") -> None:
    """Screenshots at 1366 and 390 px wide, scrolled to `selector` (every page fits 390 px)."""
    for width in (1366, 390):
        browser.driver.set_window_size(width, 900)
        element = browser.driver.find_element(By.CSS_SELECTOR, selector)
        browser.driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", element)
        browser.screenshot(f"{name}-{width}")
        scroll_width = browser.driver.execute_script("return document.body.scrollWidth")
        assert scroll_width <= width, (name, width, scroll_width)
    browser.driver.set_window_size(1280, 900)


def test_a_manager_provisions_a_bare_host_then_deploys_and_the_site_is_served(
    browser, cast, bare_host, tmp_path, celery_worker_process
):
    with (bare_host.base / "authorized_keys").open("a") as authorized:
        authorized.writelines(f"{key.public_key}\n" for key in
                              OrganizationKey.objects.filter(organization=cast.org))
    repo = AppRepo.create(tmp_path / "repos", "laravelish")
    repo.commit(NO_BUILD_TOOLS, "Plain PHP: nothing to install")
    browser.login(cast.manager.email, PASSWORD)
    browser.get("/o/acme/servers/new/")
    _fill(browser, {"name": "bare", "host": bare_host.address, "port": "22", "user": "root"})
    _submit(browser, "main form button[type=submit]")
    server = browser.wait_for(lambda: Server.objects.filter(name="bare", status="connected")
                              .first(), 60, "the first connection check")
    browser.get("/o/acme/sites/new/")
    _fill(browser, {"name": "Shop", "domain": "shop.example.test",
                    "repository_url": repo.ssh_url("root", bare_host.address, 22),
                    "deploy_path": "/var/www/shop",
                    "repository_host_keys": f"{bare_host.address} {bare_host.host_key_line}"})
    Select(browser.driver.find_element(By.NAME, "preset")).select_by_value("php")
    browser.driver.find_element(By.CSS_SELECTOR, f"input[name=servers][value='{server.pk}']"
                                ).click()
    _submit(browser, "main form button[type=submit]")
    site = browser.wait_for(lambda: Site.objects.filter(name="Shop").first(), 10, "the site")
    with (bare_host.base / "authorized_keys").open("a") as authorized:
        authorized.write(site.deploy_key_public + "\n")  # the host serves the repository too
    browser.get(f"/o/acme/sites/{site.pk}/")
    _shots(browser, "provision-site-before", "#provisioning")
    _submit(browser, "a[href*='/stack-fix/'][href$='/nginx_site_missing/']")
    browser.wait_for(lambda: "/stack-fix/" in browser.driver.current_url, 30, "the preview")
    assert "root /var/www/shop/current/public;" in browser.text("pre")
    _shots(browser, "provision-stack-fix-preview")
    browser.get(f"/o/acme/sites/{site.pk}/")
    _submit(browser, "form[action$='/provision/'] button[type=submit]")
    job = browser.wait_for(lambda: _finished(site, Kind.PROVISION), 120, "the provisioning")
    assert job.status == "succeeded", job.error
    browser.get(f"/o/acme/deployments/{job.pk}/")
    _shots(browser, "provision-job")
    browser.get(f"/o/acme/sites/{site.pk}/")
    assert "site-shop" in browser.text("#provisioning")
    _shots(browser, "provision-site-after", "#provisioning")
    browser.get(f"/o/acme/servers/{server.pk}/")
    _shots(browser, "provision-server-php", "#php")
    browser.get(f"/o/acme/sites/{site.pk}/")
    browser.site_deploy_button()  # its plan has loaded: the button is the one that stays
    _submit(browser, "form[action$='/deploy/'] button")
    deploy = browser.wait_for(lambda: _finished(site, Kind.DEPLOY), 120, "the deploy")
    assert deploy.status == "succeeded", deploy.error
    status, body = bare_host.get("/", host="shop.example.test")
    assert status == 200 and b"release=" in body
