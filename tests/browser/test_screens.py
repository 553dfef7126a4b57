"""A Manager's tour of the main pages after real deploys: no console error, the right pages.

Each page is saved as <name>.png (docs/screenshots/ for the README when DEPLOYNIX_SCREENSHOTS=docs,
see tests/browser/harness.py). (This module sorts after test_live_log.py, so its populated
dashboard is the `dashboard.png` a full run leaves behind.)
"""

from __future__ import annotations

import pytest

from servers.models import Server
from tests.browser.test_acceptance import click, deployed, make_site, web  # noqa: F401
from tests.conftest import PASSWORD
from tests.fixtures.stage import wait_until

pytestmark = [
    pytest.mark.browser, pytest.mark.ssh, pytest.mark.web, pytest.mark.redis, pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def tour(site) -> dict[str, str]:
    """Screenshot name → path of each page on the tour."""
    server = site.servers.get()
    return {
        "dashboard": "/o/acme/",
        "site": f"/o/acme/sites/{site.pk}/",
        "servers": "/o/acme/servers/",
        "server-detail": f"/o/acme/servers/{server.pk}/",
        "audit": "/o/acme/audit/",
        "ssh-key": "/o/acme/servers/ssh-key/",
    }


def check_connection(browser, server: Server) -> None:
    """Press "Check connection" on the server page; wait for the worker's real SSH check."""
    browser.get(f"/o/acme/servers/{server.pk}/")
    click(browser, "form[action$='/check/'] button")
    wait_until(lambda: Server.objects.get(pk=server.pk).last_checked_at, 60, "the check")


def test_it_shows_the_main_pages_after_real_deploys_without_console_errors(
    browser, cast, make_site, celery_worker_process  # noqa: F811
):
    first, _ = deployed(make_site("php -r 'echo PHP_VERSION, PHP_EOL;'"), "1.0.0", "1.1.0")
    browser.login(cast.manager.email, PASSWORD)
    check_connection(browser, first.site.servers.get())
    headings = {}
    for name, path in tour(first.site).items():
        browser.get(path)
        headings[name] = browser.text("main h1")
        browser.screenshot(name)
    assert browser.console_errors() == []
    assert headings == {
        "dashboard": "Acme", "site": "demo", "servers": "Servers", "server-detail": "web-1",
        "audit": "Audit log", "ssh-key": "Organization SSH key",
    }
