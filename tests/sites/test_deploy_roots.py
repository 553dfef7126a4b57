"""A deploy path must lie under the allowed roots of each of the site's servers (default:
/var/www and the SSH user's home), never in a hidden or system directory."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sites import validators as v
from sites.services import site_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def default_roots(settings):
    settings.DEPLOY_ROOTS = ["/var/www", "~"]


@pytest.mark.parametrize("path", [
    "/home/other/app", "/root/app", "/srv/shop", "/opt/app",
])
def test_it_refuses_paths_outside_the_default_roots(make_site, server, default_roots, path):
    server.user = "deploy"
    server.save()
    with pytest.raises(ValidationError) as refused:
        make_site(deploy_path=path)
    assert "may only live under /var/www, /home/deploy" in str(refused.value)


@pytest.mark.parametrize("path", ["/var/www/shop", "/home/deploy/apps/shop"])
def test_it_accepts_paths_under_the_default_roots(make_site, server, default_roots, path):
    server.user = "deploy"
    server.save()
    assert make_site(deploy_path=path).deploy_path == path


def test_a_servers_own_roots_replace_the_default(make_site, server, default_roots):
    server.deploy_roots = ["/srv/apps"]
    server.save()
    assert make_site(deploy_path="/srv/apps/shop").deploy_path == "/srv/apps/shop"
    with pytest.raises(ValidationError):
        make_site(name="other", deploy_path="/var/www/other")


def test_moving_a_site_is_checked_against_its_servers(make_site, cast, default_roots):
    site = make_site(deploy_path="/var/www/shop")
    with pytest.raises(ValidationError):
        site_update(site=site, actor=None, deploy_path="/home/someone/shop")


@pytest.mark.parametrize("path", [
    "/root/.ssh", "/home/deploy/.ssh/app", "/var/www/.config/app", "/var/lib/postgresql",
    "/var/spool/cron/app",
])
def test_it_refuses_hidden_and_sensitive_directories(path):
    with pytest.raises(ValidationError):
        v.clean_deploy_path(path)
