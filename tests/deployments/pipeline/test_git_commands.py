"""Golden tests for the git builders: hardened git, credentials never in argv, one exact commit."""

from __future__ import annotations

import shlex

import pytest

from deployments.pipeline import git
from deployments.pipeline.actions import Upload
from tests.deployments.pipeline.contexts import SHA, make_ctx

SAFE = git.GIT_SAFETY


def test_it_hardens_every_git_call():
    assert git.git("status", repo="/r") == ("git", "-C", "/r", *SAFE, "status")
    assert SAFE == (
        "-c", "protocol.allow=never", "-c", "protocol.ssh.allow=always",
        "-c", "protocol.https.allow=always", "-c", "core.hooksPath=/dev/null",
        "-c", "credential.helper=",
    )  # fmt: skip


def test_it_fetches_into_the_mirror_and_resolves_in_one_command():
    fetch = git.fetch_and_resolve(make_ctx(branch="release/1.x"), "/t", [], has_mirror=True)
    fresh = git.fetch_and_resolve(make_ctx(), "/t", [], has_mirror=False)

    assert fetch.argv == (
        "sh", "-c", git.FETCH_SCRIPT, "sh",
        "/t", "/srv/app/repo", "git@github.com:acme/app.git", "refs/heads/release/1.x", "0",
        "90", git.DESCRIBE_FORMAT, "0", *SAFE,
    )  # fmt: skip
    assert fresh.argv[8] == "1"  # a fresh mirror: remove any half-cloned leftover first
    assert fetch.env == git.git_env(make_ctx(), "/t")


def test_it_hardens_the_clone_fetch_and_resolution_inside_the_script():
    lines = git.FETCH_SCRIPT.strip().splitlines()
    clone, fetch, describe, not_found = lines[-6], lines[-4], lines[-2], lines[-1]
    # After the credential files, what is left of the positional parameters is GIT_SAFETY.
    command = git.fetch_and_resolve(make_ctx(), "/t", [], has_mirror=True)

    assert command.argv[-len(SAFE):] == SAFE
    assert 'git "$@" clone --mirror -- "$url" "$repo"' in clone
    assert 'git -C "$repo" "$@" fetch --prune --force -- "$url" \'+refs/*:refs/*\'' in fetch
    describe_options = shlex.join(git.DESCRIBE[:-1])
    assert describe.endswith(f'"$@" {describe_options} "--format=$format" "$ref^{{commit}}" -- ||')
    assert git.DESCRIBE[-1] == f"--format={git.DESCRIBE_FORMAT}"
    assert not_found.strip() == 'exit "$not_found"'


def test_it_resolves_the_branch_head_or_verifies_the_given_commit():
    branch = git.fetch_and_resolve(make_ctx(branch="main"), "/t", [], has_mirror=True)
    exact = git.fetch_and_resolve(make_ctx(commit=SHA), "/t", [], has_mirror=True)

    assert (branch.argv[7], exact.argv[7]) == ("refs/heads/main", SHA)
    assert git.describe_commit(make_ctx(), SHA)[-2:] == (f"{SHA}^{{commit}}", "--")


def test_it_sends_credentials_on_stdin_never_in_the_argv_or_label():
    files = git.credential_files(make_ctx(deploy_key="PRIVATE"), "/t", ("[h]:22 ssh-ed25519 A",))

    fetch = git.fetch_and_resolve(make_ctx(deploy_key="PRIVATE"), "/t", files, has_mirror=True)

    assert fetch.argv[11:18] == ("2", "deploy_key", "600", "8", "known_hosts", "600", "21")
    assert fetch.stdin == b"PRIVATE\n[h]:22 ssh-ed25519 A\n"
    assert "PRIVATE" not in repr(fetch) + fetch.label + " ".join(fetch.argv)


def test_it_extracts_the_exact_commit_with_pipefail_and_writes_revision():
    extract = git.extract_release(make_ctx(), SHA)

    assert extract.argv == (
        "bash", "-c", git.EXTRACT_SCRIPT, "bash", "/srv/app/repo", SHA,
        "/srv/app/releases/20260102030405", "2", *git.RELEASE_FILES, *SAFE,
    )  # fmt: skip
    code = [line for line in git.EXTRACT_SCRIPT.splitlines() if not line.startswith("#")]
    assert code[0] == "set -o pipefail"
    assert 'git -C "$repo" "$@" archive --format=tar "$sha" | tar -x -f - -C "$release"' in (
        git.EXTRACT_SCRIPT
    )


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
        "-o", "KexAlgorithms=^curve25519-sha256,curve25519-sha256@libssh.org",
        "-i", "/t/deploy_key", "-o", "IdentitiesOnly=yes",
    ]  # fmt: skip
    assert "PRIVATE" not in repr(env)


def test_it_passes_an_https_token_only_through_an_askpass_file():
    ctx = make_ctx(repository_url="https://git.example/app.git", https_token="tok3n")

    files = {f.path: f for f in git.credential_files(ctx, "/t", ())}
    fetch = git.fetch_and_resolve(ctx, "/t", list(files.values()), has_mirror=True)

    assert files["/t/askpass"].mode == 0o700 and files["/t/token"] == Upload(
        "/t/token", b"tok3n", 0o600
    )
    assert fetch.env["GIT_ASKPASS"] == "/t/askpass"
    assert "tok3n" not in repr(fetch) + " ".join(fetch.argv) + repr(dict(fetch.env))


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
