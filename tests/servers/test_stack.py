"""The stack check in the product: a connection check stores the live nginx/PHP-FPM facts of a
real host (sshd + WebStack on this machine), the server and site pages judge sites from them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from servers.models import Server, ServerStatus
from servers.selectors import site_stack_findings
from servers.services import server_check
from servers.stack import store
from sites.services import site_create
from tenancy.audit import Actor
from testbed.web import SiteRoot
from tests.fixtures.matrix import ROLES

pytestmark = [pytest.mark.ssh, pytest.mark.web]

REALPATH_FIX = "fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;"
TIMEOUT_FIX = "process_control_timeout = 10s"
# Runs every command of the session in a fresh PID namespace: the host then has no nginx or
# php-fpm running, whatever else runs on this machine.
NO_PROCESSES = 'command="exec unshare --pid --fork --mount-proc sh -c \\"$SSH_ORIGINAL_COMMAND\\"" '


@pytest.fixture
def make_site(cast):
    """A site of the cast organization deploying to `deploy_path` on `servers`."""

    def make(deploy_path: Path, servers: list[Server], name: str = "shop"):
        return site_create(
            organization=cast.org,
            actor=Actor(user=cast.owner),
            servers=servers,
            name=name,
            repository_url="git@github.com:acme/shop.git",
            deploy_path=str(deploy_path),
        )

    return make


@pytest.fixture
def checked_server(tmp_path, org_host, add_server, web_stack_factory, make_site):
    """`checked_server(misconfigured)`: a checked server running a WebStack, and its site."""

    def check(misconfigured: bool = False):
        web_stack_factory([SiteRoot(tmp_path / "shop")], misconfigured=misconfigured)
        server = add_server(org_host)
        server_check(server)
        server.refresh_from_db()
        return server, make_site(tmp_path / "shop", [server])

    return check


def page(client, name: str, pk: int) -> str:
    return client.get(reverse(name, args=["acme", pk])).content.decode()


def test_it_stores_the_live_stack_at_a_connection_check(tmp_path, checked_server):
    server, _ = checked_server()
    roots = [block["root"]["args"][0] for block in server.stack["nginx"] if block["root"]]
    assert f"{tmp_path}/shop/current/public" in roots
    assert any(master["settings"] for master in server.stack["fpm"])


def test_it_finds_no_error_on_the_recommended_stack(cast, checked_server, client_for):
    _, site = checked_server()
    [stack] = site_stack_findings(site)
    assert stack.checked and stack.errors == 0
    assert "Graceful PHP-FPM reload" in page(client_for(cast.viewer), "sites:detail", site.pk)


def test_it_shows_the_lines_to_change_on_the_server_page(cast, checked_server, client_for):
    server, _ = checked_server(misconfigured=True)
    html = page(client_for(cast.viewer), "servers:detail", server.pk)
    assert REALPATH_FIX in html and TIMEOUT_FIX in html
    assert "docs/server-setup.md" in html


def test_it_shows_the_errors_on_the_site_page(cast, checked_server, client_for):
    _, site = checked_server(misconfigured=True)
    [stack] = site_stack_findings(site)
    errors = {shown.finding.code for shown in stack.findings if shown.finding.level == "error"}
    assert errors >= {"realpath_script_filename", "fpm_process_control_timeout"}
    html = page(client_for(cast.viewer), "sites:detail", site.pk)
    assert REALPATH_FIX in html and TIMEOUT_FIX in html


def test_it_keeps_the_check_connected_on_a_host_without_a_web_stack(
    make_sshd_host, org_key, add_server
):
    host = make_sshd_host(authorized_keys=[NO_PROCESSES + org_key.public_key])
    server = add_server(host)
    assert server_check(server) == ServerStatus.CONNECTED
    server.refresh_from_db()
    assert store.NO_FPM_MASTER_NOTE in server.stack["notes"]


def test_it_records_a_hanging_stack_probe_as_a_note(
    make_sshd_host, org_key, add_server, monkeypatch
):
    # `ps` hangs on this host; everything else (the tool probes) answers.
    hang_ps = 'case \\"$SSH_ORIGINAL_COMMAND\\" in *ps\\ -eo*) sleep 30;; esac; '
    line = f'command="{hang_ps}exec sh -c \\"$SSH_ORIGINAL_COMMAND\\"" {org_key.public_key}'
    monkeypatch.setattr(store, "STACK_PROBE_TIMEOUT", 2.0)
    server = add_server(make_sshd_host(authorized_keys=[line]))
    assert server_check(server) == ServerStatus.CONNECTED
    server.refresh_from_db()
    assert server.stack["notes"] == ["Stack check timed out after 2s."]


def test_it_shows_the_findings_to_everyone_who_can_view(cast, checked_server, client_for):
    server, site = checked_server(misconfigured=True)
    shown = [
        REALPATH_FIX in page(client_for(cast.user(role)), name, pk)
        for role in ROLES
        for name, pk in (("servers:detail", server.pk), ("sites:detail", site.pk))
    ]
    assert all(shown) and len(shown) == 2 * len(ROLES)


def both_pages(client, server: Server, site) -> CaptureQueriesContext:
    """The queries of rendering the server page and the site page."""
    with CaptureQueriesContext(connection) as queries:
        page(client, "servers:detail", server.pk)
        page(client, "sites:detail", site.pk)
    return queries


def test_it_judges_stacks_in_constant_queries(cast, checked_server, make_site, client_for):
    server, site = checked_server(misconfigured=True)
    client = client_for(cast.viewer)
    one = both_pages(client, server, site)
    others = [
        Server.objects.create(
            organization=cast.org, name=f"web-{n}", host="127.0.0.1", stack=server.stack
        )
        for n in (2, 3)
    ]
    site.servers.add(*others)
    make_site(Path(site.deploy_path).parent / "blog", [server], name="blog")
    three = both_pages(client, server, site)
    assert len(three) == len(one)
