"""Let's Encrypt, optional: the challenge location and certbot's webroot command behind
SiteSpec.acme_email, and a clear error where certbot is missing. Obtaining a certificate from
the real CA is NOT tested (these machines cannot reach it)."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from servers.provision.facts import HostFacts
from servers.provision.runner import provision
from servers.provision.templates import ACME_WEBROOT, certbot_command, nginx_site
from tests.fixtures.bare import Recorder, bare_target, spec

FACTS = HostFacts(nginx_dir="/etc/nginx/sites-enabled", fpm_pid_file="/run/php/php8.2-fpm.pid")
ACME = replace(spec(), acme_email="ops@example.test")


def test_the_challenge_location_is_there_only_when_asked_for():
    assert "acme-challenge" not in nginx_site(spec(), FACTS)
    assert (f"location ^~ /.well-known/acme-challenge/ {{\n        root {ACME_WEBROOT};\n"
            in nginx_site(ACME, FACTS))


def test_certbot_asks_nothing_and_uses_the_webroot():
    assert certbot_command(ACME) == [
        "certbot", "certonly", "--webroot", "-w", ACME_WEBROOT, "-d", "shop.example.test",
        "--non-interactive", "--agree-tos", "-m", "ops@example.test", "--keep-until-expiring"]


@pytest.mark.ssh
@pytest.mark.web
async def test_without_certbot_it_fails_clearly_and_serves_the_challenge_location(
    bare_host, ssh_client_key
):
    result = await provision([bare_target(bare_host, ssh_client_key[0])], ACME, Recorder())
    assert (result.status, result.failed_step) == ("failed", "lets_encrypt")
    assert "certbot is not installed on the server" in result.error
    challenge = f"{ACME_WEBROOT}/.well-known/acme-challenge"
    bare_host.run(["sh", "-c", f"mkdir -p {challenge} && echo token-1 > {challenge}/t1"])
    deadline = time.monotonic() + 10  # nginx's reload is asynchronous
    while (answer := bare_host.get("/.well-known/acme-challenge/t1", host="shop.example.test")
           ) != (200, b"token-1\n") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert answer == (200, b"token-1\n")
