"""A test app repository is reachable the way a server fetches it: git over real OpenSSH."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from servers.shell import join
from testbed.gitrepo import git_env

pytestmark = pytest.mark.ssh


def _ssh_command(tmp_path: Path, private_key: str, host) -> str:
    identity, known_hosts = tmp_path / "id_ed25519", tmp_path / "known_hosts"
    identity.write_text(private_key)
    identity.chmod(0o600)
    known_hosts.write_text(f"[{host.host}]:{host.port} {host.host_key_line}\n")
    options = ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes"]
    return join(["ssh", "-i", str(identity), "-o", f"UserKnownHostsFile={known_hosts}", *options])


def test_it_clones_the_app_repo_over_ssh(tmp_path, app_repo, sshd_host, ssh_client_key):
    sha = app_repo.commit({"VERSION": "4.0.0\n"}, "Release 4.0.0")
    env = dict(git_env(), GIT_SSH_COMMAND=_ssh_command(tmp_path, ssh_client_key[0], sshd_host))
    url = app_repo.ssh_url(sshd_host.user, sshd_host.host, sshd_host.port)

    subprocess.run(["git", "clone", "--quiet", url, str(tmp_path / "clone")], env=env, check=True)

    head = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=tmp_path / "clone",
        capture_output=True,
        text=True,
        env=env,
    ).stdout.strip()
    assert head == sha
    assert os.access(tmp_path / "clone/artisan", os.X_OK)
