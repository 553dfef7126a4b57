"""What a deployment needs to know, what it reports to, and what it returns.

Everything here is plain data: no ORM objects, no Django. The Django side (the
Celery task) builds a `DeployContext` and a `Sink`, calls `run_deploy` or
`run_rollback`, and stores the `PipelineResult`.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from deployments.pipeline.rolling import BalancerLink
from servers.ssh import RemoteConnection, SSHTarget

RELEASE_NAME = re.compile(r"^\d{14}$")
# Where a site may live on a server unless the server says otherwise ("~": the deploy user's
# home, resolved on the server). The Django side passes each server's own roots.
DEFAULT_DEPLOY_ROOTS = ("/var/www", "~")
FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
# Debian's supervisor package: its supervisord.conf includes conf.d/*.conf.
DEFAULT_SUPERVISOR_CONFIG = "/etc/supervisor/supervisord.conf"
# A worker's or group's name as supervisor and systemd will see it.
WORKER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}\Z")
OCTANE_SERVERS = ("frankenphp", "swoole", "roadrunner")
# A Host header value: a name or address, optionally with a port (never a line break).
HOST_HEADER = re.compile(r"^[A-Za-z0-9.:\[\]-]{0,253}\Z")


@dataclass(frozen=True)
class ServerSpec:
    """One target server; `name` tags its log lines and step records.

    `stack_warnings` and `reload` come from the server stack check (servers/stack/check.py) of
    the last connection check: the warnings are shown before the switch, and `reload` is
    'skip' when a graceful PHP-FPM reload would drop requests and is not needed.
    """

    name: str
    target: SSHTarget
    stack_warnings: tuple[str, ...] = ()
    reload: str = "reload"  # 'reload' | 'skip'
    # Where this server's own web server answers the post-switch health probe (which runs
    # on the server itself, so loopback or the server's address both work).
    web_address: str = "127.0.0.1"
    web_port: int = 80
    # The directories a deploy path must lie under on this server (checked there by prepare).
    deploy_roots: tuple[str, ...] = DEFAULT_DEPLOY_ROOTS
    # The supervisord configuration whose conf.d/ holds the site's worker programs and whose
    # socket supervisorctl talks to (deployments/pipeline/workers.py).
    supervisor_config: str = DEFAULT_SUPERVISOR_CONFIG
    # The site's own unix user on this server (set once the site is provisioned there): every
    # command but the reload runs as it, so one site cannot read another's files.
    run_as: str = ""
    # systemd runs this server (provisioning's facts): the site's workers are systemd units
    # there, supervisor programs elsewhere (deployments/pipeline/workers.py).
    systemd: bool = False

    @property
    def root_prefix(self) -> tuple[str, ...]:
        """The argv prefix of a command that needs root (sudo that never asks, see
        docs/server-setup.md) when the server's user is not root."""
        return () if self.target.username == "root" else ("sudo", "-n")

    @property
    def user_switch(self) -> tuple[str, ...]:
        """The argv prefix that runs a command as `run_as` (docs/server-setup.md, "Site users").

        The server's user is root: `runuser` (util-linux, on every Debian); otherwise
        `sudo -n -u` (needs a sudoers rule for that user)."""
        if not self.run_as:
            return ()
        if self.target.username == "root":
            return ("runuser", "-u", self.run_as, "--")
        return ("sudo", "-n", "-u", self.run_as, "--")


@dataclass(frozen=True)
class HealthCheck:
    """What a healthy release answers (deployments/pipeline/health.py probes it).

    `host` is the Host header (the site's domain; "" sends the address); `timeout` bounds
    the whole request, in seconds.
    """

    path: str = "/"
    expected_status: int = 200
    body_text: str = ""
    timeout: float = 5.0
    host: str = ""
    scheme: str = "http"  # 'http' | 'https' (the certificate is not checked: see health.py)

    def __post_init__(self) -> None:
        if not self.path.startswith("/") or any(c in self.path for c in " \r\n\t"):
            raise ValueError(f"health check path must start with / (no spaces): {self.path!r}")
        if not HOST_HEADER.match(self.host):
            raise ValueError(f"health check host must be a host name: {self.host!r}")
        if self.scheme not in ("http", "https"):
            raise ValueError(f"health check scheme must be http or https: {self.scheme!r}")
        if not 0 < self.timeout <= 60:
            raise ValueError(f"health check timeout must be in (0, 60] s: {self.timeout!r}")


@dataclass(frozen=True)
class WorkerSpec:
    """One worker or daemon of the site, run from `current` by the server's process manager.

    `program` is its name there (unique on the server: the site's group plus its own name);
    `octane` names the Octane server (frankenphp, swoole, roadrunner) of a daemon that is
    reloaded gracefully (`php artisan octane:reload`) instead of restarted.
    """

    name: str
    program: str
    command: str
    processes: int = 1
    stop_wait: int = 10
    octane: str = ""

    def __post_init__(self) -> None:
        for value in (self.name, self.program):
            if not WORKER_NAME.match(value):
                raise ValueError(f"worker name must be lower-case letters, digits, -: {value!r}")
        if not self.command.strip() or any(c in self.command for c in "\0\r\n"):
            raise ValueError(f"worker command must be one line: {self.command!r}")
        try:
            words = shlex.split(self.command)
        except ValueError as exc:
            raise ValueError(f"worker command {self.command!r}: {exc}") from None
        if not words or words[0].startswith("-"):
            raise ValueError(f"worker command must start with a program: {self.command!r}")
        if not 1 <= self.processes <= 32 or not 1 <= self.stop_wait <= 3600:
            raise ValueError(f"worker {self.name}: 1-32 processes, stop wait 1-3600 s")
        if self.octane and self.octane not in OCTANE_SERVERS:
            raise ValueError(f"worker {self.name}: unknown Octane server {self.octane!r}")

    @property
    def process_names(self) -> tuple[str, ...]:
        """The processes supervisor runs for it (`<program>_00`, `<program>_01`, ...)."""
        return tuple(f"{self.program}_{n:02d}" for n in range(self.processes))


@dataclass(frozen=True)
class Hook:
    """A site's script for one named point of the pipeline (deployments/pipeline/hooks.py);
    `timeout` in seconds bounds that one run."""

    point: str  # after_fetch | before_switch | after_switch | after_cleanup | on_failure
    script: str
    timeout: float = 300.0

    def __post_init__(self) -> None:
        if not 0 < self.timeout <= 3600:
            raise ValueError(f"hook timeout must be in (0, 3600] s: {self.timeout!r}")


@dataclass(frozen=True)
class DeployContext:
    """Everything a deploy or rollback needs (docs/architecture.md, "The pipeline").

    `secrets` are values the SINK must redact from every line: the pipeline never
    prints the deploy key or the HTTPS token itself, but user scripts may echo
    anything (e.g. a value from the .env), and those lines reach the sink verbatim.
    """

    deployment_id: int
    kind: str  # 'deploy' | 'rollback'
    deploy_path: str
    release: str  # YYYYMMDDHHMMSS (UTC); for rollback: the target release
    servers: tuple[ServerSpec, ...]
    repository_url: str = ""
    branch: str = "main"
    commit: str | None = None
    # Secrets stay out of repr(): a logged or formatted context must not leak them.
    deploy_key: str | None = field(default=None, repr=False)
    repository_host_keys: tuple[str, ...] = ()
    https_token: str | None = field(default=None, repr=False)
    web_dir: str = "public"
    shared_dirs: tuple[str, ...] = ("storage",)
    shared_files: tuple[str, ...] = (".env",)
    env_file: str | None = field(default=None, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)
    preset: str = "laravel"  # 'laravel' | 'php' | 'none'
    run_migrations: bool = True
    build_commands: tuple[str, ...] = ()
    deploy_script: str = ""
    reload_method: str = "php-fpm"  # 'php-fpm' | 'octane' | 'none'
    reload_command: tuple[str, ...] = ("sudo", "-n", "systemctl", "reload", "php8.2-fpm")
    releases_to_keep: int = 5
    step_timeout: float = 900.0
    total_timeout: float = 3600.0
    min_free_mb: int = 200
    # The fencing token of this deployment's lease (deployments.pipeline.lock).
    epoch: int = 0
    # Deploy only the branch tip or a descendant of the live commit (a git push: never back).
    forward_only: bool = False
    # The commit live on every server when the deployment started; a deploy that resolves to
    # it stops before anything is built ("already live"). None: deploy anyway (forced).
    live_commit: str | None = None
    # Probed before the switch (the new release) and after it (the live site); None: no gate.
    health_check: HealthCheck | None = None
    # The site's load balancer: set, the switch rolls through it (drain, switch, probe, enable)
    # and migrations run on the first server only (deployments/pipeline/rolling.py).
    balancer: BalancerLink | None = None
    # The site's workers and daemons. `worker_group` set: Deploynix manages the site's workers
    # on its servers (even none left: the deploy then removes those deleted); "" leaves them.
    workers: tuple[WorkerSpec, ...] = ()
    worker_group: str = ""
    # The site's hook scripts, at most one per point (deployments/pipeline/hooks.py).
    hooks: tuple[Hook, ...] = ()
    # With several servers: "once", the first server fetches and streams the release to the
    # others (deployments/pipeline/seed.py); "each", every server fetches (the bench compares).
    fleet_fetch: str = "once"

    def __post_init__(self) -> None:
        # The Django side validates at save; these are the ones a mistake would
        # turn into a wrong path or a wrong commit, so the pipeline refuses them too.
        if not posixpath.isabs(self.deploy_path) or posixpath.normpath(self.deploy_path) == "/":
            raise ValueError(f"deploy_path must be an absolute path below /: {self.deploy_path!r}")
        if not RELEASE_NAME.match(self.release):
            raise ValueError(f"release must be 14 digits (YYYYMMDDHHMMSS): {self.release!r}")
        if self.fleet_fetch not in ("once", "each"):
            raise ValueError(f"fleet_fetch must be 'once' or 'each': {self.fleet_fetch!r}")
        if self.commit is not None and not FULL_SHA.match(self.commit):
            raise ValueError(f"commit must be a full 40-hex SHA: {self.commit!r}")
        if self.worker_group and not WORKER_NAME.match(self.worker_group):
            raise ValueError(f"worker group must be a worker name: {self.worker_group!r}")

    def hook(self, point: str) -> Hook | None:
        """The site's hook at `point`, if it has one."""
        return next((hook for hook in self.hooks if hook.point == point), None)

    @property
    def is_laravel(self) -> bool:
        """Whether the Laravel-specific steps (migrate, caches, queue restart) apply."""
        return self.preset == "laravel"


@dataclass(frozen=True)
class Paths:
    """The remote layout of one site, in one place (no step builds its own path strings)."""

    deploy: str
    release_name: str
    deployment_id: int

    @classmethod
    def of(cls, ctx: DeployContext) -> Paths:
        """The layout for `ctx` (deploy path normalised, no trailing slash)."""
        return cls(posixpath.normpath(ctx.deploy_path), ctx.release, ctx.deployment_id)

    def _in(self, *parts: str) -> str:
        return posixpath.join(self.deploy, *parts)

    @property
    def releases(self) -> str:
        return self._in("releases")

    @property
    def shared(self) -> str:
        return self._in("shared")

    @property
    def current(self) -> str:
        return self._in("current")

    @property
    def repo(self) -> str:
        """The bare mirror reused between deploys."""
        return self._in("repo")

    @property
    def state(self) -> str:
        """Deploynix's own private directory (releases log, temp credentials)."""
        return self._in(".deploynix")

    @property
    def run_pids(self) -> str:
        """Pid files of this deployment's running process groups (deployments.pipeline.lock)."""
        return self._in(".deploynix", "pids", str(self.deployment_id))

    @property
    def releases_log(self) -> str:
        return self._in(".deploynix", "releases.log")

    @property
    def created_log(self) -> str:
        """The names of the releases Deploynix created here, one per line: the only ones it
        may prune besides those in releases.log."""
        return self._in(".deploynix", "created")

    @property
    def release(self) -> str:
        return self.release_dir(self.release_name)

    @property
    def temp_link(self) -> str:
        """The symlink built next to `current` and renamed over it."""
        return self._in(f"current.tmp.{self.deployment_id}")

    def release_dir(self, name: str) -> str:
        """Absolute path of releases/<name>."""
        return self._in("releases", name)


# The open connection to one server of the deployment (ServerSession.connection).
MirrorConnection = Callable[[], Awaitable[RemoteConnection]]


class Sink(Protocol):
    """Receives everything the pipeline reports. Implementations MUST NOT raise on ordinary data.

    Lines arrive exactly as the remote printed them (decoded, without the line
    break): redacting `DeployContext.secrets` is the sink's job, as is numbering
    and persisting. `stream` is 'out', 'err' or 'info' (the pipeline's own notes,
    such as the command about to run).
    """

    async def step_started(self, step: str, server: str) -> None: ...

    async def step_finished(
        self, step: str, server: str, status: str, exit_code: int | None, error: str = ""
    ) -> None: ...  # status: succeeded | failed | skipped | cancelled | timed_out

    async def line(self, server: str, stream: str, text: str, ts: float) -> None: ...

    async def commit_resolved(
        self, sha: str, message: str, author: str, mirror: MirrorConnection | None = None
    ) -> None:
        """The deployment's exact commit; `mirror` gives the connection to the server whose
        mirror resolved it (read-only use: the release diff is read over it)."""
        ...

    async def lease_lost(self) -> str:
        """Why this deployment may no longer change anything ("" while it holds the site)."""
        ...

    async def cancel_requested(self) -> bool:
        """Whether someone asked to cancel this deployment (asked right before the switch)."""
        ...


@dataclass(frozen=True)
class PipelineResult:
    """How a deploy or rollback ended; `error` carries the failing command's last lines."""

    status: str  # 'succeeded' | 'failed' | 'cancelled' | 'timed_out' | 'skipped'
    failed_step: str = ""
    error: str = ""
    commit: str = ""
    # (server name, inventory.Inventory): what each server said once a succeeded run's last
    # step ended, read over its own connection (a server that did not answer is left out).
    observed: tuple[tuple[str, Any], ...] = ()
