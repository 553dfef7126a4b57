"""Which process manager runs a host's workers: systemd where it runs the machine, else
supervisor, with the reason in the provisioning log (and the server page)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servers.provision.facts import detect, init_system
from servers.provision.runner import provision
from servers.ssh import connect
from tests.fixtures.bare import Recorder, bare_target, spec


@pytest.mark.parametrize("run_dir,pid1", [(True, "init"), (False, "systemd"), (True, "systemd")])
def test_it_knows_systemd_by_its_runtime_directory_or_by_pid_1(run_dir, pid1):
    systemd, reason = init_system(run_dir, pid1)
    assert systemd and "systemd units" in reason


def test_it_says_why_supervisor_runs_the_workers_elsewhere():
    assert init_system(False, "sleep") == (False, "no /run/systemd/system and pid 1 is sleep, "
                                                  "not systemd: workers run under supervisor")


@pytest.mark.ssh
@pytest.mark.web
async def test_a_host_without_systemd_gets_supervisor_and_the_log_says_why(
    bare_host, ssh_client_key
):
    target = bare_target(bare_host, ssh_client_key[0])
    async with await connect(target.target) as conn:
        facts = await detect(conn)
    pid1 = bare_host.run(["cat", "/proc/1/comm"]).stdout.strip()
    assert (facts.systemd, facts.init_reason) == (False, init_system(False, pid1)[1])
    recorder = Recorder()
    await provision([target], spec(), recorder)
    assert f"systemd: no ({facts.init_reason})" in recorder.text()


@pytest.mark.django_db
def test_the_server_page_says_which_process_manager_runs_workers_and_why(
    cast, add_server, client_for
):
    server = add_server(name="web-1")
    _, reason = init_system(False, "sleep")
    server.stack = {"php": {"fpm_binary": "/usr/sbin/php-fpm8.2", "systemd": False,
                            "init_reason": reason}}
    server.save(update_fields=["stack"])
    page = client_for(cast.viewer).get(
        reverse("servers:detail", args=["acme", server.pk])).content.decode()
    assert f"supervisor <small class=\"muted\">({reason})</small>" in page
