"""Golden tests for the git builders: hardened git, credentials never in argv, one exact commit."""

from __future__ import annotations

import shlex

import pytest

from deployments.pipeline import git
from deployments.pipeline.actions import Upload
from tests.pipeline.contexts import SHA, make_ctx

SAFE = git.GIT_SAFETY


def test_it_hardens_every_git_call():
    assert git.git("status", repo="/r") == ("git", "-C", "/r", *SAFE, "status")
    assert SAFE == (
        "-c", "protocol.allow=never", "-c", "protocol.ssh.allow=always",
        "-c", "protocol.https.allow=always", "-c", "core.hooksPath=/dev/null",
        "-c", "credential.helper=",
    )  # fmt: skip


def test_it_clones_a_mirror_first_and_fetches_into_it_later():
    env = {"GIT_TERMINAL_PROMPT": "0"}
    first = git.update_mirror(make_ctx(), False, env)
    [later] = git.update_mirror(make_ctx(), True, env)

    assert first[1].argv == (
        "git",
        *SAFE,
        "clone",
        "--mirror",
        "--",
        "git@github.com:acme/app.git",
        "/srv/app/repo",
    )
    assert later.argv == (
        "git", "-C", "/srv/app/repo", *SAFE,
        "fetch", "--prune", "--force", "--", "git@github.com:acme/app.git", "+refs/*:refs/*",
    )  # fmt: skip
    assert later.env == env


def test_it_resolves_the_branch_head_or_verifies_the_given_commit():
    branch = git.resolve_commit(make_ctx(branch="release/1.x"))
    exact = git.resolve_commit(make_ctx(commit=SHA))

    assert branch[-4:] == ("rev-parse", "--verify", "--quiet", "refs/heads/release/1.x^{commit}")
    assert exact[-1] == f"{SHA}^{{commit}}"


def test_it_extracts_the_exact_commit_with_a_pipefail_pipeline_and_writes_revision():
    run, revision = git.extract_release(make_ctx(), SHA)

    assert run.argv[:4] == ("bash", "-o", "pipefail", "-c")
    assert shlex.split(run.argv[4]) == [
        *git.git("archive", "--format=tar", SHA, repo="/srv/app/repo"),
        "|",
        *("tar", "-x", "-f", "-", "-C", "/srv/app/releases/20260102030405"),
    ]
    assert revision == Upload("/srv/app/releases/20260102030405/REVISION", SHA.encode())


def test_it_writes_the_deploy_key_and_pinned_hosts_0600_in_the_temp_dir():
    files = git.credential_files(make_ctx(deploy_key="PRIVATE"), "/t", ("[h]:22 ssh-ed25519 AAA",))

    assert files == [
        Upload("/t/deploy_key", b"PRIVATE\n", 0o600),
        Upload("/t/known_hosts", b"[h]:22 ssh-ed25519 AAA\n", 0o600),
    ]


def test_it_uses_the_key_only_through_git_ssh_command_with_strict_host_checking():
    env = git.git_env(make_ctx(deploy_key="PRIVATE"), "/t")

    assert shlex.split(env["GIT_SSH_COMMAND"]) == [
        "ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
        "-o", 'UserKnownHostsFile="/t/known_hosts"',
        "-i", "/t/deploy_key", "-o", "IdentitiesOnly=yes",
    ]  # fmt: skip
    assert "PRIVATE" not in repr(env)


def test_it_passes_an_https_token_only_through_an_askpass_file():
    ctx = make_ctx(repository_url="https://git.example/app.git", https_token="tok3n")

    files = {f.path: f for f in git.credential_files(ctx, "/t", ())}
    env = git.git_env(ctx, "/t")

    assert files["/t/askpass"].mode == 0o700 and files["/t/token"] == Upload(
        "/t/token", b"tok3n", 0o600
    )
    assert env["GIT_ASKPASS"] == "/t/askpass"
    assert "tok3n" not in repr(env) + repr(git.update_mirror(ctx, True, env))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ssh://git@h.example:2222/a.git", git.RepositoryLocation("ssh", "h.example", 2222)),
        ("git@github.com:acme/app.git", git.RepositoryLocation("ssh", "github.com", 22)),
        ("https://github.com/acme/app.git", git.RepositoryLocation("https", "github.com", 443)),
        ("file:///etc", git.RepositoryLocation("other")),
        ("ext::sh -c x", git.RepositoryLocation("other")),
        ("/srv/repo.git", git.RepositoryLocation("other")),
    ],
)
def test_it_classifies_repository_urls_like_git(url, expected):
    assert git.locate(url) == expected


def test_it_scans_the_repository_host_and_refuses_option_like_hosts():
    assert git.keyscan(git.RepositoryLocation("ssh", "h", 2222)) == (
        "ssh-keyscan",
        "-p",
        "2222",
        "--",
        "h",
    )
    with pytest.raises(ValueError):
        git.keyscan(git.locate("ssh://-oProxyCommand=x/repo"))
