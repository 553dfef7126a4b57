"""Provisioning as an unprivileged SSH user: root through `sudo -n` (NOPASSWD), and a clear,
early refusal, with nothing changed, where sudo wants a password or is not allowed at all."""

from __future__ import annotations

import time

import pytest

from servers.provision.runner import provision
from tests.fixtures.bare import Recorder, bare_target, spec

pytestmark = [pytest.mark.ssh, pytest.mark.web]

NOPASSWD = "deployer ALL=(ALL:ALL) NOPASSWD: ALL"


async def _provision_as(host, key, user):
    recorder = Recorder()
    result = await provision([bare_target(host, key, user)], spec(), recorder)
    return result, recorder


def _served(host, domain: str) -> bytes:
    """What nginx answers for `domain` once its reload (asynchronous) took effect."""
    deadline = time.monotonic() + 10
    while (answer := host.get("/", host=domain))[1] == b"bare host\n":
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return answer[1]


def _untouched(host) -> bool:
    """No site user, no pool, no server block: nothing of the site was provisioned."""
    checks = [["id", "site-shop"], ["ls", "/etc/nginx/sites-enabled/deploynix-shop.conf"],
              ["sh", "-c", "ls /etc/php/*/fpm/pool.d/deploynix-shop.conf"]]
    return all(host.run(argv, check=False).returncode != 0 for argv in checks)


async def test_it_provisions_through_passwordless_sudo(bare_host, ssh_client_key):
    bare_host.add_login_user("deployer", ssh_client_key[1], NOPASSWD)
    result, recorder = await _provision_as(bare_host, ssh_client_key[0], "deployer")
    assert result.status == "succeeded", result.error + recorder.text()
    conf = "/etc/nginx/sites-enabled/deploynix-shop.conf"
    assert bare_host.run(["stat", "-c", "%U", conf]).stdout.strip() == "root"
    bare_host.run(["sh", "-c", "mkdir -p /var/www/shop/current/public && "
                   "echo live > /var/www/shop/current/public/index.html"])
    # nginx was reloaded through sudo: it serves the new block.
    assert _served(bare_host, "shop.example.test") == b"live\n"


async def test_a_sudo_that_asks_for_a_password_fails_at_once(bare_host, ssh_client_key):
    bare_host.add_login_user("deployer", ssh_client_key[1], "deployer ALL=(ALL:ALL) ALL")
    result, _ = await _provision_as(bare_host, ssh_client_key[0], "deployer")
    assert (result.status, result.failed_step) == ("failed", "root_access")
    assert "a password is required" in result.error and "NOPASSWD" in result.error
    assert _untouched(bare_host)


async def test_a_user_without_sudo_gets_a_clear_error_and_nothing_changes(
    bare_host, ssh_client_key
):
    bare_host.add_login_user("deployer", ssh_client_key[1])
    result, _ = await _provision_as(bare_host, ssh_client_key[0], "deployer")
    assert (result.status, result.failed_step) == ("failed", "root_access")
    assert "the SSH user cannot act as root" in result.error
    assert _untouched(bare_host)
