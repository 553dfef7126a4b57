"""Capistrano 3 (Debian's `capistrano`, /usr/bin/cap) deploying the same app to the same host.

A minimal Capfile + config/deploy.rb in a temp dir: the same ssh repository URL, a separate
deploy_to on the same sshd host, the same client key, pinned host keys (net-ssh verifies
against a known_hosts file; the remote git uses the deploy key with strict host checking),
`keep_releases 5`, no bundler, and the same graceful php-fpm reload after publishing.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from pathlib import Path

from bench.testbed import Bed, Site, known_host

CAP = Path("/usr/bin/cap")

CAPFILE = """\
require "capistrano/setup"
require "capistrano/deploy"
require "capistrano/scm/git"
install_plugin Capistrano::SCM::Git
"""

DEPLOY_RB = """\
lock "~> 3.17"
set :application, "demo"
set :repo_url, {repo_url}
set :branch, "main"
set :deploy_to, {deploy_to}
set :keep_releases, 5
set :log_level, :warn
set :format, :dot
set :tmp_dir, {tmp_dir}
# The remote git fetches with the deploy key and refuses unknown host keys, like Deploynix.
set :git_environmental_variables, {{ git_ssh_command: {git_ssh} }}
set :ssh_options, {{
  keys: [{client_key}], keys_only: true, port: {port}, auth_methods: ["publickey"],
  user_known_hosts_file: {known_hosts}, verify_host_key: :always,
}}

namespace :php do
  task :reload do
    on roles(:web) do
      # SSHKit joins arguments with spaces unquoted: send one command line, quoted by shlex.
      execute {reload}
    end
  end
end
after "deploy:publishing", "php:reload"
"""

PRODUCTION_RB = "server {host}, user: {user}, roles: %w[web]\n"


def _ruby(text: str) -> str:
    """A Ruby single-quoted string literal (only \\\\ and \\' are special inside)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def write_project(bed: Bed, site: Site, directory: Path) -> None:
    """The Capfile, config/deploy.rb and config/deploy/production.rb for `site` on bed's host."""
    (directory / "config" / "deploy").mkdir(parents=True, exist_ok=True)
    secrets = directory / "secrets"
    secrets.mkdir(mode=0o700, exist_ok=True)
    for name, text in (("client_key", bed.client_key), ("deploy_key", bed.deploy_key)):
        (secrets / name).write_text(text)
        (secrets / name).chmod(0o600)
    known = secrets / "known_hosts"
    known.write_text(f"{known_host(bed.host.host, bed.host.port)} {bed.host.host_key_line}\n")
    git_ssh = shlex.join(
        [
            "ssh",
            "-i",
            str(secrets / "deploy_key"),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            f"UserKnownHostsFile={known}",
            "-o",
            "StrictHostKeyChecking=yes",
        ]
    )
    (directory / "Capfile").write_text(CAPFILE)
    (directory / "config" / "deploy.rb").write_text(
        DEPLOY_RB.format(
            repo_url=_ruby(bed.repo.ssh_url(bed.host.user, bed.host.host, bed.host.port)),
            deploy_to=_ruby(str(site.deploy_path)),
            tmp_dir=_ruby(str(directory / "tmp")),
            git_ssh=_ruby(git_ssh),
            client_key=_ruby(str(secrets / "client_key")),
            port=int(bed.host.port),
            known_hosts=_ruby(str(known)),
            reload=_ruby(shlex.join(site.stack.reload_command)),
        )
    )
    (directory / "config" / "deploy" / "production.rb").write_text(
        PRODUCTION_RB.format(host=_ruby(bed.host.host), user=_ruby(bed.host.user))
    )


def _cap(directory: Path, *task: str) -> float:
    started = time.monotonic()
    done = subprocess.run(
        [str(CAP), "production", *task],
        cwd=directory,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(directory)},
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"cap {' '.join(task)} failed:\n{done.stdout[-1500:]}{done.stderr[-1500:]}"
        )
    return time.monotonic() - started


class Capistrano:
    """A Capistrano project for `site` on bed's host; `deploy()`/`rollback()` return seconds."""

    def __init__(self, bed: Bed, site: Site) -> None:
        if not CAP.exists():
            raise FileNotFoundError("/usr/bin/cap is not installed (apt-get install capistrano)")
        self.directory = bed.base / "capistrano"
        write_project(bed, site, self.directory)

    def deploy(self) -> float:
        return _cap(self.directory, "deploy")

    def rollback(self) -> float:
        """Roll back one release (timed), then deploy again (untimed).

        Capistrano's rollback deletes the release it leaves, so it cannot go back and forth:
        the untimed deploy gives the next rollback something to step back from.
        """
        seconds = _cap(self.directory, "deploy:rollback")
        self.deploy()
        return seconds
