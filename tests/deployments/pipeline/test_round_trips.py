"""How many remote commands a deploy and a rollback cost, counted by the server's sshd.

Every command is a round trip (3 ms on a quiet machine, 25 ms under load), so the
counts are pinned: a change that adds one has to change this file too.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from deployments.pipeline import run_deploy, run_rollback
from deployments.pipeline.context import WorkerSpec
from tests.deployments.pipeline.conftest import Site, run, without_build_tools

pytestmark = pytest.mark.ssh

# guard (may the path hold a site here? before anything is created), probe (+ mkdir release),
# fetch + resolve, extract, switch, reload, log + prune, and the inventory once it succeeded
# (runner.Run._observe: the reconcile after the deployment reads it instead of opening a
# connection of its own for the same command)
PLAIN_DEPLOY_COMMANDS = 8
# check release, switch, reload, inventory
ROLLBACK_COMMANDS = 4
# the plain deploy's 8, plus: link shared paths, write .env, composer (vendor/ reuse is
# checked in the same round trip), composer.json's ext-* against the server's PHP, migrate,
# npm ci, npm run build, 4 caches, queue:restart
LARAVEL_DEPLOY_COMMANDS = 8 + 13


def sessions(host) -> int:
    """Channels the server opened so far (one per command, SFTP included)."""
    return host.log_path.read_text().count("Starting session:")


def plain_php(site: Site, server, **overrides):
    """A plain PHP site (no composer, npm, shared paths or .env) deployed to `server`."""
    options = dict(preset="php", shared_dirs=(), shared_files=(), env_file=None)
    options.update(reload_method="php-fpm", reload_command=("true",))
    return site.context(servers=(site.server(server),), **options, **overrides)


def test_it_deploys_a_plain_php_site_in_eight_commands_first_and_later(site, make_sshd_host):
    server = make_sshd_host()
    without_build_tools(site.repo)

    counts = []
    for _ in range(2):
        before = sessions(server)
        assert run(run_deploy, plain_php(site, server))[0].status == "succeeded"
        counts.append(sessions(server) - before)

    assert counts == [PLAIN_DEPLOY_COMMANDS, PLAIN_DEPLOY_COMMANDS]


def test_it_rolls_back_in_four_commands(site, make_sshd_host):
    server = make_sshd_host()
    without_build_tools(site.repo)
    first = plain_php(site, server)
    run(run_deploy, first)
    run(run_deploy, plain_php(site, server))
    before = sessions(server)

    result, _sink = run(
        run_rollback, plain_php(site, server, kind="rollback", release=first.release)
    )

    assert (result.status, sessions(server) - before) == ("succeeded", ROLLBACK_COMMANDS)


def test_it_deploys_a_laravel_site_with_one_command_per_tool(site, make_sshd_host):
    server = make_sshd_host()
    reload = dict(reload_method="php-fpm", reload_command=("true",))
    ctx = site.context(servers=(site.server(server),), **reload)

    result, sink = run(run_deploy, ctx)

    assert result.status == "succeeded", result.error
    assert sessions(server) == LARAVEL_DEPLOY_COMMANDS, sink.text()


# the plain deploy's 8, plus: install + restart the workers (one command), verify (one)
WORKERS_DEPLOY_COMMANDS = 8 + 2


def test_it_restarts_and_verifies_workers_in_two_more_commands(site, make_sshd_host, supervisor):
    server = make_sshd_host()
    without_build_tools(site.repo)
    spec = replace(site.server(server), supervisor_config=str(supervisor.config))
    queue = WorkerSpec("queue", "deploynix-rt-queue", "sleep 9999")
    ctx = plain_php(site, server, worker_group="deploynix-rt", workers=(queue,))
    ctx = replace(ctx, servers=(spec,))

    result, sink = run(run_deploy, ctx)

    assert result.status == "succeeded", result.error
    assert sessions(server) == WORKERS_DEPLOY_COMMANDS, sink.text()
