"""Every argv survives shell quoting unchanged; hostile values stay single literal arguments."""

from __future__ import annotations

import posixpath
import shlex

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deployments.pipeline import commands, facts, git
from deployments.pipeline.actions import Command, Upload
from deployments.pipeline.facts import ServerFacts
from servers.shell import command_line
from tests.deployments.pipeline.contexts import SHA, make_ctx

TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1)
HOSTILE = ["--upload-pack=x", "main;id", "$(id)", "`id`", "-oProxyCommand=x", "ext::sh -c x",
           "file:///etc", "a b\nc'd\"e", "*"]  # fmt: skip


def every_command(ctx) -> list[Command]:
    """All commands all builders emit for `ctx` (facts chosen so every branch is taken)."""
    known = ServerFacts(current_target="releases/20250101000000", releases=("20250101000000",))
    key = [Upload("/t/deploy_key", b"KEY\n", 0o600)]
    built = [
        facts.probe(ctx), *commands.link_shared(ctx),
        *commands.install(ctx, "20250101000000"), *commands.migrate(ctx),
        *commands.build_assets(ctx, "20250101000000", True), *commands.optimize(ctx),
        *commands.custom_script(ctx, SHA), commands.activate(ctx), *commands.reload(ctx),
        *commands.restart_workers(ctx), commands.cleanup(ctx, known, SHA),
        commands.check_release(ctx), commands.discard_release(ctx, ("/t",)),
        commands.restore_current(ctx, "releases/20250101000000"),
        git.fetch_and_resolve(ctx, "/t", key, has_mirror=False), git.extract_release(ctx, SHA),
        Command(git.describe_commit(ctx)),
    ]  # fmt: skip
    return [action for action in built if isinstance(action, Command)]


def assert_round_trips(command: Command) -> None:
    for argv in (command.argv, *command.when):
        assert shlex.split(shlex.join(argv)) == list(argv)
    line = command_line(command.argv, cwd=command.cwd, env=dict(command.env) or None)
    assert shlex.split(line)[-len(command.argv) :] == list(command.argv)


@settings(max_examples=60, deadline=None)
@given(branch=TEXT, path=TEXT, script=TEXT, url=TEXT, shared=TEXT)
def test_it_keeps_every_argv_intact_through_quoting(branch, path, script, url, shared):
    deploy_path = "/" + path
    assume(posixpath.normpath(deploy_path) != "/")
    try:
        commands.shared_path(shared)
    except ValueError:
        assume(False)
    ctx = make_ctx(
        branch=branch, deploy_path=deploy_path, deploy_script=script, repository_url=url,
        build_commands=(script,), shared_dirs=(shared,), reload_method="octane",
    )  # fmt: skip
    for command in every_command(ctx):
        assert_round_trips(command)


@pytest.mark.parametrize("value", HOSTILE)
def test_it_passes_hostile_branch_and_url_as_single_literal_arguments(value):
    ctx = make_ctx(branch=value, repository_url=value)

    fetch = git.fetch_and_resolve(ctx, "/t", [], has_mirror=True)

    # The script is a constant; the URL and the ref are positional parameters of it.
    assert fetch.argv[:4] == ("sh", "-c", git.FETCH_SCRIPT, "sh")
    assert fetch.argv[4:9] == ("/t", "/srv/app/repo", value, f"refs/heads/{value}", "0")


@pytest.mark.parametrize("value", HOSTILE)
def test_it_passes_hostile_scripts_as_one_bash_argument(value):
    [script] = commands.custom_script(make_ctx(deploy_script=value), SHA)

    assert script.argv == ("bash", "-eo", "pipefail", "-c", value)
    assert shlex.split(command_line(script.argv))[-1] == value


def test_it_keeps_secrets_out_of_the_context_repr():
    from deployments.pipeline.context import DeployContext

    ctx = DeployContext(
        deployment_id=1,
        kind="deploy",
        deploy_path="/srv/a",
        release="20260101000000",
        servers=(),
        deploy_key="CANARY-KEY",
        https_token="CANARY-TOKEN",
        env_file="A=CANARY-ENV",
        secrets=("CANARY-SECRET",),
    )
    assert "CANARY" not in repr(ctx)
