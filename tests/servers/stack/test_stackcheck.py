"""The stack check against real nginx + php-fpm hosts read over a real sshd."""

from __future__ import annotations

import pytest

from servers.ssh import connect
from servers.stack.check import parse_nginx, seconds
from servers.stack.probe import collect, judge_site
from testbed.web import SiteRoot

pytestmark = [pytest.mark.ssh, pytest.mark.web]


async def _judge(ssh_target, deploy_path, reload_method="php-fpm"):
    async with await connect(ssh_target) as conn:
        facts = await collect(conn)
    return judge_site(
        facts, deploy_path=str(deploy_path), web_dir="public", reload_method=reload_method
    )


async def test_it_passes_the_recommended_stack(tmp_path, web_stack_factory, ssh_target):
    site = tmp_path / "good"
    web_stack_factory([SiteRoot(site)])
    findings, reload = await _judge(ssh_target, site)
    assert [f for f in findings if f.level != "ok"] == []
    assert reload == "reload"


async def test_it_flags_the_misconfigured_stack_with_the_lines_to_change(
    tmp_path, web_stack_factory, ssh_target
):
    site = tmp_path / "bad"
    web_stack_factory([SiteRoot(site)], misconfigured=True)
    findings, _ = await _judge(ssh_target, site)
    errors = {f.code: f for f in findings if f.level == "error"}
    assert set(errors) == {
        "realpath_script_filename",
        "realpath_document_root",
        "fpm_process_control_timeout",
    }
    assert errors["realpath_document_root"].fix == "fastcgi_param DOCUMENT_ROOT $realpath_root;"
    assert "process_control_timeout = 10s" in errors["fpm_process_control_timeout"].fix


def test_it_skips_a_reload_that_would_drop_requests_when_none_is_needed():
    """$realpath_root serves new paths at once and OPcache revalidates: with
    process_control_timeout = 0 a reload could only drop requests, so it is skipped."""
    from servers.stack.check import check_site, choose_reload, parse_nginx

    dump = ("# configuration file /n.conf:\nserver {\n root /srv/a/current/public;\n"
            " fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;\n"
            " fastcgi_param DOCUMENT_ROOT $realpath_root;\n}\n")
    fpm = {"process_control_timeout": "0s"}
    opcache = {"opcache.enable": "On", "opcache.validate_timestamps": "On"}
    findings = check_site(deploy_path="/srv/a", web_dir="public", nginx=parse_nginx(dump),
                          fpm=fpm, opcache=opcache, reload_method="php-fpm")
    assert choose_reload(findings, fpm) == "skip"
    opcache["opcache.validate_timestamps"] = "Off"
    findings = check_site(deploy_path="/srv/a", web_dir="public", nginx=parse_nginx(dump),
                          fpm=fpm, opcache=opcache, reload_method="php-fpm")
    assert choose_reload(findings, fpm) == "reload"


def test_it_finds_server_blocks_in_included_files():
    dump = (
        "# configuration file /etc/nginx/nginx.conf:\nhttp {\n include /etc/nginx/sites/*;\n}\n"
        "# configuration file /etc/nginx/sites/app:\nserver {\n root /srv/app/current/public;\n"
        " location ~ \\.php$ {\n  fastcgi_pass unix:/run/php/fpm.sock;\n"
        "  fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n }\n}\n"
    )
    [server] = parse_nginx(dump)
    assert server.root.where == "/etc/nginx/sites/app:2"
    assert server.fastcgi_params["SCRIPT_FILENAME"].line == 5
    assert server.fastcgi_pass == "unix:/run/php/fpm.sock"


@pytest.mark.parametrize("value,expected", [("10s", 10), ("0", 0), ("2m", 120), ("junk", 0)])
def test_it_reads_fpm_durations(value, expected):
    assert seconds(value) == expected
