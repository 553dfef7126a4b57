"""Provisioning a bare Debian host for real: user, PHP-FPM pool, nginx block, cron entry."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from servers.provision.runner import provision
from servers.provision.steps import Templates, select
from servers.provision.templates import nginx_site
from servers.ssh import connect
from servers.stack.probe import collect, judge_site
from tests.fixtures.bare import Recorder, bare_target, spec

pytestmark = [pytest.mark.ssh, pytest.mark.web]


async def _provision(host, key, site=None, **options):
    recorder = Recorder()
    result = await provision([bare_target(host, key)], site or spec(), recorder, **options)
    return result, recorder


async def test_it_provisions_a_fresh_host_that_the_stack_check_passes(bare_host, ssh_client_key):
    result, _ = await _provision(bare_host, ssh_client_key[0])
    assert result.status == "succeeded", result.error
    target = bare_target(bare_host, ssh_client_key[0]).target
    async with await connect(target) as conn:
        facts = await collect(conn)
    findings, reload = judge_site(facts, deploy_path="/var/www/shop", web_dir="public",
                                  reload_method="php-fpm")
    assert [f.code for f in findings if f.level != "ok"] == []
    assert bare_host.run(["stat", "-c", "%U:%G:%a", "/var/www/shop"]).stdout.strip() == (
        "site-shop:www-data:2750")


async def test_it_changes_nothing_when_provisioned_again(bare_host, ssh_client_key):
    await _provision(bare_host, ssh_client_key[0])
    before = bare_host.run(["cat", "/run/php/php8.2-fpm.pid"]).stdout
    result, recorder = await _provision(bare_host, ssh_client_key[0])
    assert result.status == "succeeded"
    assert result.changed == {bare_host.name: []}
    assert bare_host.run(["cat", "/run/php/php8.2-fpm.pid"]).stdout == before


async def test_it_keeps_the_previous_config_serving_when_a_broken_template_fails(
    bare_host, ssh_client_key
):
    await _provision(bare_host, ssh_client_key[0])
    bare_host.run(["sh", "-c", "mkdir -p /var/www/shop/current/public && "
                   "echo live > /var/www/shop/current/public/index.html"])
    broken = Templates(nginx_site=lambda s, f: nginx_site(s, f).replace("root ", "rooot ", 1))
    site = spec(domains=("shop.example.test", "www.shop.example.test"))
    result, recorder = await _provision(bare_host, ssh_client_key[0], site, templates=broken)
    assert (result.status, result.failed_step) == ("failed", "nginx_site")
    conf = bare_host.run(["cat", "/etc/nginx/sites-enabled/deploynix-shop.conf"]).stdout
    assert "rooot" not in conf and "www.shop" not in conf
    assert bare_host.get("/", host="shop.example.test") == (200, b"live\n")


async def test_it_refuses_a_user_it_did_not_create(bare_host, ssh_client_key):
    bare_host.run(["useradd", "site-shop"])
    result, recorder = await _provision(bare_host, ssh_client_key[0])
    assert (result.status, result.failed_step) == ("failed", "site_user")
    assert "was not created by Deploynix" in recorder.text()


async def test_it_installs_the_scheduler_as_the_site_user_and_removes_it(
    bare_host, ssh_client_key
):
    await _provision(bare_host, ssh_client_key[0], replace(spec(), scheduler=True))
    entry = bare_host.run(["cat", "/etc/cron.d/deploynix-shop"]).stdout
    assert "* * * * * site-shop cd /var/www/shop/current && php artisan schedule:run" in entry
    await _provision(bare_host, ssh_client_key[0])
    assert bare_host.run(["test", "-e", "/etc/cron.d/deploynix-shop"], check=False).returncode == 1


async def test_a_dry_run_shows_the_fix_and_changes_nothing_then_the_step_fixes_it(
    bare_host, ssh_client_key
):
    await _provision(bare_host, ssh_client_key[0])
    drop_in = "/etc/php/8.2/fpm/pool.d/00-deploynix-global.conf"
    bare_host.run(["sh", "-c", f"printf '[global]\\nprocess_control_timeout = 0\\n' > {drop_in}"])
    only_fpm = select(["php_fpm"])
    result, recorder = await _provision(bare_host, ssh_client_key[0], steps=only_fpm,
                                        dry_run=True)
    assert "+process_control_timeout = 10s" in recorder.text()
    assert "process_control_timeout = 0" in bare_host.run(["cat", drop_in]).stdout
    result, _ = await _provision(bare_host, ssh_client_key[0], steps=only_fpm)
    assert result.changed == {bare_host.name: ["php_fpm"]}
    assert "process_control_timeout = 10s" in bare_host.run(["cat", drop_in]).stdout


async def test_it_serves_https_with_the_uploaded_certificate_and_never_logs_the_key(
    bare_host, ssh_client_key, tls_pem
):
    certificate, key = tls_pem
    site = replace(spec(), certificate=certificate, private_key=key)
    result, recorder = await _provision(bare_host, ssh_client_key[0], site)
    assert result.status == "succeeded", result.error
    key_body = key.splitlines()[1]
    assert key_body not in recorder.text()
    mode = bare_host.run(["stat", "-c", "%a", "/etc/nginx/deploynix-tls/shop.key"]).stdout
    assert mode.strip() == "600"
    served = bare_host.run(["sh", "-c", "echo | openssl s_client -connect 127.0.0.1:443 "
                            "-servername shop.example.test 2>/dev/null | openssl x509 -noout "
                            "-subject"], check=False).stdout
    assert "shop.example.test" in served


async def test_a_cancelled_run_stops_before_its_next_step(bare_host, ssh_client_key):
    cancel = asyncio.Event()
    cancel.set()
    result, _ = await _provision(bare_host, ssh_client_key[0], cancel=cancel)
    assert (result.status, result.failed_step) == ("cancelled", "root_access")
    assert bare_host.run(["id", "site-shop"], check=False).returncode == 1
