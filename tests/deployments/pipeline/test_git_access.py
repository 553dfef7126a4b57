"""SSH access: one login per server, repository host keys pinned or TOFU, exact commits."""

from __future__ import annotations

import asyncio
import socket

import pytest

from deployments.pipeline import git, run_deploy
from deployments.pipeline.commit import CommitResolver
from deployments.pipeline.session import ServerSession, StepFailed
from tests.deployments.pipeline.conftest import (
    RecordingSink,
    Site,
    remote_processes,
    run,
    wait_for_line,
    without_build_tools,
)
from tests.deployments.pipeline.contexts import make_ctx

pytestmark = pytest.mark.ssh


def leftovers(site: Site) -> list[str]:
    """Temporary credential directories still under .deploynix/."""
    return [
        p.name for p in (site.deploy_path / ".deploynix").iterdir() if p.name.startswith("git.")
    ]


def test_it_trusts_the_repository_host_on_first_use_and_says_so(site: Site):
    without_build_tools(site.repo)

    result, sink = run(run_deploy, site.context(preset="none", repository_host_keys=()))

    assert result.status == "succeeded"
    assert f"trusting on first use: [{site.host.host}]:{site.host.port} ssh-ed25519" in sink.text()


def test_it_refuses_a_repository_host_with_another_key_and_removes_the_key_file(site: Site):
    other_key = "AAAAC3NzaC1lZDI1NTE5AAAAIKq3ffRn0x2V2o4Cb1EtCNQ3mJX5hn1SDbnS1pcoxUZn"
    wrong = (f"[{site.host.host}]:{site.host.port} ssh-ed25519 {other_key}",)

    result, sink = run(run_deploy, site.context(preset="none", repository_host_keys=wrong))

    assert (result.status, result.failed_step) == ("failed", "fetch_code")
    assert "Host key verification failed" in result.error
    assert leftovers(site) == []


def test_it_deploys_the_exact_commit_asked_for(site: Site):
    old = without_build_tools(site.repo)
    site.repo.commit({"VERSION": "3.0.0\n"}, "Newer")
    ctx = site.context(preset="none", commit=old)

    result, sink = run(run_deploy, ctx)

    assert (site.release_dir(ctx) / "REVISION").read_text() == old == result.commit
    assert (site.release_dir(ctx) / "VERSION").read_text() == "1.0.0\n"


def test_it_refuses_a_commit_that_is_not_in_the_repository(site: Site):
    ctx = site.context(preset="none", commit="f" * 40)

    result, _sink = run(run_deploy, ctx)

    assert result.failed_step == "fetch_code"
    assert result.error.startswith(f"web1: commit {'f' * 40} not found in {ctx.repository_url}")
    assert not site.release_dir(ctx).exists()


async def test_it_answers_git_askpass_with_the_token_from_its_0600_file(ssh_connection, tmp_path):
    ctx = make_ctx(repository_url="https://git.example/app.git", https_token="tok-3n 'x'")
    for upload in git.credential_files(ctx, str(tmp_path), ()):
        await ssh_connection.upload(upload.path, upload.data, mode=upload.mode)
    answers = []

    for prompt in (
        "Username for 'https://git.example': ",
        "Password for 'https://x@git.example': ",
    ):
        await ssh_connection.run([str(tmp_path / "askpass"), prompt], on_line=answers.append)

    assert [line.text for line in answers] == ["x-access-token", "tok-3n 'x'"]
    assert (tmp_path / "token").stat().st_mode & 0o777 == 0o600


def test_it_logs_in_once_per_server_for_a_whole_deployment(site: Site, make_sshd_host):
    server = make_sshd_host()
    without_build_tools(site.repo)

    result, _sink = run(run_deploy, site.context(preset="none", servers=(site.server(server),)))

    assert result.status == "succeeded"
    assert server.log_path.read_text().count("Accepted publickey") == 1


async def test_it_kills_a_hanging_fetch_on_cancel_and_leaves_no_key(site: Site):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never says a word: ssh waits
    port = silent.getsockname()[1]
    url = f"ssh://git@127.0.0.1:{port}/app.git"
    pinned = (f"[127.0.0.1]:{port} {site.host.host_key_line}",)
    ctx = site.context(preset="none", repository_url=url, repository_host_keys=pinned)
    cancel, sink = asyncio.Event(), RecordingSink()
    task = asyncio.create_task(run_deploy(ctx, sink, cancel))
    await wait_for_line(sink, "$ git fetch")
    ssh = f"ssh .*{site.deploy_path}/.deploynix/git"  # git's ssh, using the deploy key
    waiting = await _appeared(ssh)  # the fetch is now waiting for the silent host

    cancel.set()
    result = await task
    silent.close()

    assert (result.status, result.failed_step) == ("cancelled", "fetch_code")
    assert waiting != "" and remote_processes(ssh) == ""
    assert leftovers(site) == []


async def _appeared(pattern: str, timeout: float = 10.0) -> str:
    """pgrep's lines for `pattern` once there are any (a slow machine starts git's ssh late)."""
    async with asyncio.timeout(timeout):
        while not (found := await asyncio.to_thread(remote_processes, pattern)):
            await asyncio.sleep(0.05)
    return found


async def test_it_keeps_the_first_servers_commit_when_this_mirror_saw_a_newer_head(site: Site):
    first = without_build_tools(site.repo)
    ctx = site.context(preset="none")
    assert (await run_deploy(ctx, RecordingSink())).status == "succeeded"
    newer = site.repo.commit({"VERSION": "4.0.0\n"}, "Pushed while deploying")
    resolver = CommitResolver()
    resolver.sha = first  # decided by another server
    session = ServerSession(ctx, ctx.servers[0], RecordingSink(), resolver)

    try:
        kept = await resolver.settle(session, [newer, "Ada", "Pushed while deploying"])
        resolver.sha = "f" * 40
        with pytest.raises(StepFailed, match="not found"):
            await resolver.settle(session, [newer])
    finally:
        await session.close()

    assert kept == first
