"""The nginx + php-fpm test hosts serve Deploynix release layouts like a real server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed.web import SiteRoot, WebStack
from tests.fixtures.web import make_release, switch_current

pytestmark = pytest.mark.web


def _site_with_release(tmp_path: Path, name: str = "20260101000000") -> SiteRoot:
    deploy_path = tmp_path / "site"
    make_release(deploy_path, name)
    switch_current(deploy_path, name)
    return SiteRoot(deploy_path=deploy_path)


def _descendants(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid] + [d for child in children for d in _descendants(int(child))]


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has stopped


def test_it_serves_index_php_of_the_current_release(tmp_path, web_stack_factory):
    stack = web_stack_factory([_site_with_release(tmp_path)])

    status, body = stack.get("/")

    assert status == 200
    assert body == b"release=20260101000000 version=1.0.0 env=Testapp\n"


def test_it_routes_unknown_paths_to_the_front_controller(tmp_path, web_stack_factory):
    stack = web_stack_factory([_site_with_release(tmp_path)])

    assert stack.get("/users/42?page=2")[1].startswith(b"release=20260101000000 ")
    assert stack.get("/.env")[0] == 403


def test_it_serves_the_new_release_after_switch_and_reload(tmp_path, web_stack_factory):
    site = _site_with_release(tmp_path, "20260101000000")
    stack = web_stack_factory([site])
    stack.get("/")
    make_release(site.deploy_path, "20260102000000")

    switch_current(site.deploy_path, "20260102000000")
    subprocess.run(stack.reload_command, check=True)

    assert stack.get("/")[1].startswith(b"release=20260102000000 ")


def test_it_serves_the_new_release_at_once_even_before_the_reload(tmp_path, web_stack_factory):
    site = _site_with_release(tmp_path, "20260101000000")
    stack = web_stack_factory([site])
    stack.get("/")
    make_release(site.deploy_path, "20260102000000")

    switch_current(site.deploy_path, "20260102000000")

    assert stack.get("/")[1].startswith(b"release=20260102000000 ")


def test_it_keeps_serving_the_old_release_when_misconfigured(tmp_path, web_stack_factory):
    site = _site_with_release(tmp_path, "20260101000000")
    stack = web_stack_factory([site], misconfigured=True)
    stack.get("/")
    make_release(site.deploy_path, "20260102000000")

    switch_current(site.deploy_path, "20260102000000")

    assert stack.get("/")[1].startswith(b"release=20260101000000 ")


def test_it_writes_the_classic_mistakes_when_misconfigured(tmp_path, web_stack_factory):
    stack = web_stack_factory([_site_with_release(tmp_path)], misconfigured=True)

    nginx_conf = stack.nginx_conf_file.read_text()

    assert "SCRIPT_FILENAME $document_root$fastcgi_script_name" in nginx_conf
    assert "$realpath_root" not in nginx_conf
    assert "process_control_timeout = 0\n" in stack.fpm_conf_file.read_text()


def test_it_writes_the_recommended_settings_by_default(tmp_path, web_stack_factory):
    stack = web_stack_factory([_site_with_release(tmp_path)])

    assert "SCRIPT_FILENAME $realpath_root$fastcgi_script_name" in stack.nginx_conf_file.read_text()
    assert "process_control_timeout = 10s\n" in stack.fpm_conf_file.read_text()


def _wait_for_reloads(stack: WebStack, count: int) -> None:
    deadline = time.monotonic() + 15
    while stack.completed_reloads() < count and time.monotonic() < deadline:
        time.sleep(0.02)


def test_it_reloads_php_fpm_gracefully_again_and_again(tmp_path, web_stack_factory):
    stack = web_stack_factory([_site_with_release(tmp_path)])
    for reload_number in (1, 2, 3):
        subprocess.run(stack.reload_command, check=True)
        _wait_for_reloads(stack, reload_number)

    assert stack.completed_reloads() == 3
    assert stack.get("/")[0] == 200


def test_it_serves_several_sites_by_host_name(tmp_path, web_stack_factory):
    one, two = tmp_path / "one", tmp_path / "two"
    for deploy_path, name in ((one, "20260101000001"), (two, "20260101000002")):
        make_release(deploy_path, name)
        switch_current(deploy_path, name)
    stack = web_stack_factory(
        [SiteRoot(one, server_name="one.test"), SiteRoot(two, server_name="two.test")]
    )

    assert stack.get("/", host="two.test")[1].startswith(b"release=20260101000002 ")
    assert stack.get("/", host="one.test")[1].startswith(b"release=20260101000001 ")


def test_it_leaves_no_nginx_or_php_fpm_process_after_stop(tmp_path):
    stack = WebStack.start(tmp_path / "web", sites=[_site_with_release(tmp_path)])
    pids = [pid for master in stack.pids() for pid in _descendants(master)]

    stack.stop()

    assert len(pids) >= 4  # both masters and at least one worker of each
    assert [pid for pid in pids if _running(pid)] == []


def test_it_serves_from_the_command_line_until_sigterm(tmp_path):
    site = _site_with_release(tmp_path)
    directory = tmp_path / "serve"
    argv = [
        sys.executable,
        "-m",
        "testbed.web",
        "serve",
        "--dir",
        str(directory),
        "--deploy-path",
        str(site.deploy_path),
    ]
    server = subprocess.Popen(argv, cwd=Path(__file__).parents[2], stdout=subprocess.PIPE)
    assert b"Serving " in server.stdout.readline()
    port = int((directory / "port").read_text())
    stack_pids = _descendants(server.pid)

    os.kill(server.pid, signal.SIGTERM)

    assert server.wait(timeout=30) == 0
    assert (directory / "fpm.pidfile").read_text().strip() == str(directory / "fpm.pid")
    assert port > 0 and not any(_running(pid) for pid in stack_pids)


def test_it_hands_php_the_resolved_document_root(tmp_path, web_stack_factory):
    site = _site_with_release(tmp_path, "20260101000000")
    probe = site.deploy_path / "releases/20260101000000/public/probe.php"
    probe.write_text('<?php echo $_SERVER["DOCUMENT_ROOT"], "|", $_SERVER["SCRIPT_FILENAME"];')
    stack = web_stack_factory([site])

    root, script = stack.get("/probe.php")[1].decode().split("|")

    assert root == str(site.deploy_path / "releases/20260101000000/public")
    assert script == f"{root}/probe.php"


def test_it_shows_the_placeholder_until_the_first_release_goes_live(tmp_path, web_stack_factory):
    placeholder = tmp_path / "placeholder"
    placeholder.mkdir()
    (placeholder / "not-deployed.html").write_text("demo is not deployed yet — click Deploy\n")
    deploy_path = tmp_path / "site"
    stack = web_stack_factory([SiteRoot(deploy_path=deploy_path, placeholder=placeholder)])
    status, body = stack.get("/users/42")
    assert (status, "not deployed yet" in body.decode()) == (200, True)
    make_release(deploy_path, "20260101000000")
    switch_current(deploy_path, "20260101000000")
    assert stack.get("/")[1].startswith(b"release=20260101000000 ")
