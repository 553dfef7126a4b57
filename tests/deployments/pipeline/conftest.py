"""Fixtures for real pipeline runs: a repository served over the test sshd, a sink, contexts.

Everything is real: OpenSSH sshd (the "server" and the git host), git, composer,
npm, php, nginx + php-fpm. The repository is fetched by the server over SSH from
the same sshd with its own deploy key, pinned to the sshd's host key.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deployments.pipeline import DeployContext, ServerSpec
from servers.ssh import generate_keypair
from testbed.gitrepo import AppRepo
from testbed.sshd import SshdHost
from tests.fixtures.sshd import target_for

_release_numbers = itertools.count(1)
# What the server lock leaves in .deploynix/ (deployments/pipeline/lock.py): the flock file,
# the lock naming the last holder, and the pid directory of running process groups.
LOCK_FILES = ["flock", "lock", "pids"]


def next_release() -> str:
    """A fresh, increasing 14-digit release name (real deploys use the UTC time)."""
    return f"2026010100{next(_release_numbers):04d}"


@dataclass
class RecordingSink:
    """A Sink that keeps everything, and can run a hook when a step finishes."""

    lines: list[tuple[str, str, str]] = field(default_factory=list)
    steps: list[tuple[str, str, str]] = field(default_factory=list)  # (step, server, status)
    errors: list[str] = field(default_factory=list)
    commits: list[tuple[str, str, str]] = field(default_factory=list)
    started: list[tuple[str, str]] = field(default_factory=list)
    on_finished: Callable[[str, str, str], Awaitable[None] | None] | None = None
    # Set to say "cancel requested" the way the database row does (not the cancel Event).
    cancel_asked: bool = False

    async def step_started(self, step: str, server: str) -> None:
        self.started.append((step, server))

    async def step_finished(
        self, step: str, server: str, status: str, exit_code: int | None, error: str = ""
    ) -> None:
        self.steps.append((step, server, status))
        if error:
            self.errors.append(error)
        if self.on_finished is not None:
            result = self.on_finished(step, server, status)
            if asyncio.iscoroutine(result):
                await result

    async def line(self, server: str, stream: str, text: str, ts: float) -> None:
        self.lines.append((server, stream, text))

    async def commit_resolved(self, sha: str, message: str, author: str, mirror=None) -> None:
        self.commits.append((sha, message, author))

    async def lease_lost(self) -> str:
        return ""

    async def cancel_requested(self) -> bool:
        return self.cancel_asked

    def text(self) -> str:
        """Every line, joined (for `in` checks)."""
        return "\n".join(text for _server, _stream, text in self.lines)

    def status(self, step: str, server: str = "web1") -> str | None:
        """The last status reported for `step` on `server`."""
        found = [status for name, srv, status in self.steps if (name, srv) == (step, server)]
        return found[-1] if found else None


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture(scope="session")
def deploy_key(sshd_host: SshdHost) -> str:
    """A site deploy key the git host (the same sshd) accepts."""
    private, public = generate_keypair("deploynix-deploy-key")
    sshd_host.add_authorized_key(public)
    return private


@dataclass
class Site:
    """One site under test: its repository, deploy path and a context factory."""

    repo: AppRepo
    deploy_path: Path
    host: SshdHost
    client_key: str
    deploy_key: str
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def server(self, host: SshdHost | None = None, name: str = "web1") -> ServerSpec:
        # Test sites live in temporary directories: that is this server's allowed root.
        return ServerSpec(name, target_for(host or self.host, self.client_key),
                          deploy_roots=(str(self.deploy_path.parent),))

    def context(self, **overrides: object) -> DeployContext:
        """A deploy context for this site; overrides replace any field."""
        values: dict[str, object] = dict(
            deployment_id=next(self.ids),
            kind="deploy",
            deploy_path=str(self.deploy_path),
            release=next_release(),
            servers=(self.server(),),
            repository_url=self.repo.ssh_url(self.host.user, self.host.host, self.host.port),
            deploy_key=self.deploy_key,
            repository_host_keys=(
                f"[{self.host.host}]:{self.host.port} {self.host.host_key_line}",
            ),
            env_file="APP_NAME=Pipeline\nAPP_KEY=base64:c2VjcmV0c2VjcmV0=\n",
            reload_method="none",
            min_free_mb=1,
        )
        values.update(overrides)
        # Each claim gets a higher epoch in production (lifecycle._next_epoch); so here.
        values.setdefault("epoch", values["deployment_id"])
        return DeployContext(**values)  # type: ignore[arg-type]

    def release_dir(self, ctx: DeployContext) -> Path:
        return self.deploy_path / "releases" / ctx.release

    def live(self) -> str:
        """Name of the release `current` points at."""
        return (self.deploy_path / "current").readlink().name


@pytest.fixture
def site(tmp_path: Path, sshd_host: SshdHost, ssh_client_key, deploy_key: str) -> Site:
    """A fresh site (repository + deploy path) on the shared sshd."""
    return make_site(tmp_path, sshd_host, ssh_client_key[0], deploy_key)


def run(coroutine_function, ctx: DeployContext, sink: RecordingSink | None = None):
    """Run run_deploy/run_rollback to the end from sync code; return (result, sink)."""
    sink = sink or RecordingSink()
    return asyncio.run(coroutine_function(ctx, sink)), sink


def make_site(base: Path, host: SshdHost, client_key: str, deploy_key: str) -> Site:
    """A Site with a fresh laravelish repository under `base`, deploying below host.root."""
    repo = AppRepo.create(base / "repos", "laravelish")
    return Site(repo, host.root / base.name / "site", host, client_key, deploy_key)


def without_build_tools(repo: AppRepo) -> str:
    """Commit the app without composer/npm files, for fast deploys; return the sha."""
    gone = ("composer.json", "composer.lock", "package.json", "package-lock.json")
    return repo.commit(dict.fromkeys(gone), "Plain PHP, nothing to install")


async def wait_for_line(sink: RecordingSink, text: str, timeout: float = 60.0) -> None:
    """Wait until some sink line contains `text`."""
    async with asyncio.timeout(timeout):
        while not any(text in line for _server, _stream, line in sink.lines):
            await asyncio.sleep(0.02)


def remote_processes(pattern: str) -> str:
    """pgrep -af output for `pattern` ('' when nothing matches)."""
    import subprocess

    found = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True)
    return found.stdout.strip()
