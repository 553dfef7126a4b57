"""The provisioning steps, in order, and how one runs on one server.

`STEPS` is data: each step is `async def step(run) -> bool` (True when it changed something).
Another part of provisioning (queue workers, for example) joins by adding its own step to the
tuple the runner is given; every step is idempotent, so the whole list is safe to re-run.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from servers.provision import templates as t
from servers.provision.facts import HostFacts, detect
from servers.provision.scripts import script
from servers.shell import join

WEB_GROUP = "www-data"
# How a server's SSH user other than root gets root: sudo that never asks (docs/server-setup.md).
SUDO = ("sudo", "-n")


def root_prefix(username: str) -> tuple[str, ...]:
    """The argv prefix that runs a command as root when logged in as `username`."""
    return () if username == "root" else SUDO


class ProvisionFailed(Exception):
    """A step cannot go on; the message is for people (the run's error)."""


class ProvisionSink(Protocol):
    """Where a run reports (deployments.sink.DeploymentSink is one)."""

    async def step_started(self, step: str, server: str) -> None: ...

    async def step_finished(
        self, step: str, server: str, status: str, exit_code: int | None, error: str = ""
    ) -> None: ...

    async def line(self, server: str, stream: str, text: str, ts: float) -> None: ...


@dataclass(frozen=True)
class Templates:
    """The file texts a run writes (tests inject a broken one to see validation catch it)."""

    nginx_site: Callable[[t.SiteSpec, HostFacts], str] = t.nginx_site
    fpm_pool: Callable[[t.SiteSpec, HostFacts], str] = t.fpm_pool
    fpm_global: Callable[[], str] = t.fpm_global
    cron_entry: Callable[[t.SiteSpec], str] = t.cron_entry


@dataclass
class ProvisionRun:
    """One site on one server: its connection (as the server's user), facts once detected."""

    conn: object  # servers.ssh.RemoteConnection
    server: str
    spec: t.SiteSpec
    sink: ProvisionSink
    # Prefix for commands that need root ('sudo -n' when the server's user is not root).
    as_root: tuple[str, ...] = ()
    templates: Templates = field(default_factory=Templates)
    # Only show what would change (the diffs): no file written, no user made, nothing reloaded.
    dry_run: bool = False
    facts: HostFacts = field(default_factory=HostFacts)
    last_lines: list[str] = field(default_factory=list)

    async def note(self, text: str) -> None:
        await self.sink.line(self.server, "info", text, time.time())

    async def run(
        self, argv: Sequence[str], *, stdin: bytes | None = None, label: str = ""
    ) -> tuple[int, list[str]]:
        """Run `argv` as root, streaming its lines to the log; (exit status, lines)."""
        argv = [*self.as_root, *argv]
        await self.note(f"$ {label or join(argv)}")
        lines: list[str] = []

        async def on_line(line) -> None:
            lines.append(line.text)
            await self.sink.line(self.server, line.stream, line.text, line.ts)

        result = await self.conn.run(argv, on_line=on_line, stdin=stdin, timeout=120)
        self.last_lines = lines[-20:]
        return result.exit_status, lines

    async def install(
        self,
        path: str,
        text: str,
        *,
        mode: str = "0644",
        validate: Sequence[str] = (),
        reload: Sequence[str] = (),
    ) -> bool:
        """Write `path` atomically, validate, reload; restore and fail if validation fails."""
        argv = [
            "bash",
            "-c",
            script("install_file.sh"),
            "bash",
            path,
            mode,
            "1" if self.dry_run else "0",
            str(len(validate)),
            *validate,
            str(len(reload)),
            *reload,
        ]
        status, lines = await self.run(argv, stdin=text.encode(), label=f"install {path}")
        if status != 0:
            raise ProvisionFailed(
                f"{path}: "
                + (
                    "validation failed, the previous file is back in place"
                    if status == 65
                    else f"install failed (exit {status})"
                )
            )
        return not any(line in (f"unchanged {path}", f"would change {path}") for line in lines)


Step = Callable[[ProvisionRun], Awaitable[bool]]


async def root_access(run: ProvisionRun) -> bool:
    """Check that the SSH user can act as root before anything else runs: without that,
    provisioning would stop halfway. `sudo -n` fails at once where sudo wants a password."""
    if not run.as_root:
        return False
    status, lines = await run.run(["true"], label="sudo -n true (may this user act as root?)")
    if status == 0:
        return False
    said = " ".join(line.strip() for line in lines if line.strip())[:300]
    if status == 127 or "not found" in said:
        why = "sudo is not installed on the server"
    else:
        why = f"sudo -n refused ({said or f'exit {status}'})"
    raise ProvisionFailed(
        f"the SSH user cannot act as root: {why}. Provisioning needs root or passwordless "
        "sudo (a NOPASSWD rule in /etc/sudoers.d/, see docs/server-setup.md); nothing was changed."
    )


async def detect_stack(run: ProvisionRun) -> bool:
    """Find PHP (versions, FPM binary, config, pool directory, extensions) and nginx."""
    run.facts = await detect(run.conn, as_root=run.as_root)
    f = run.facts
    await run.note(
        f"PHP {', '.join(f.php_versions) or 'not found'}; FPM {f.fpm_binary} "
        f"({f.fpm_service}), config {f.fpm_conf}, pools in {f.pool_dir}"
    )
    await run.note(f"nginx server blocks in {f.nginx_dir}; systemd: {'yes' if f.systemd else 'no'} "
                   f"({f.init_reason})")
    await run.note(f"PHP extensions: {' '.join(f.extensions)}")
    if f.problems:
        raise ProvisionFailed(" ".join(f.problems))
    return False


async def site_user(run: ProvisionRun) -> bool:
    """The site's own unix user, owning its deploy path (nginx's group may traverse it)."""
    if run.dry_run:
        status, _ = await run.run(["id", "-u", "--", run.spec.user], label=f"id {run.spec.user}")
        await run.note(f"user {run.spec.user} " + ("exists" if status == 0 else "would be created"))
        return False
    argv = [
        "sh",
        "-c",
        script("ensure_user.sh"),
        "sh",
        run.spec.user,
        run.spec.deploy_path,
        WEB_GROUP,
    ]
    status, lines = await run.run(argv, label=f"ensure user {run.spec.user}")
    if status != 0:
        raise ProvisionFailed(f"could not set up the user {run.spec.user} (exit {status})")
    return not lines or not lines[-1].startswith("unchanged")


def fpm_reload(facts: HostFacts, as_root: Sequence[str] = ()) -> list[str]:
    """A graceful PHP-FPM reload: systemd's, else SIGUSR2 to the master from its pid file;
    behind `as_root` (root_prefix) when it is a deploy's reload command."""
    if facts.systemd:
        return [*as_root, "systemctl", "reload", facts.fpm_service]
    return [*as_root, "sh", "-c", 'kill -USR2 "$(cat "$1")"', "sh", facts.fpm_pid_file]


def nginx_reload(facts: HostFacts) -> list[str]:
    if facts.systemd:
        return ["systemctl", "reload", "nginx"]
    return [*facts.nginx_argv, "-s", "reload"]


async def php_fpm(run: ProvisionRun) -> bool:
    """process_control_timeout > 0 (global), then the site's pool; validated, then reloaded."""
    f, spec = run.facts, run.spec
    validate = [f.fpm_binary, "-t", "--fpm-config", f.fpm_conf]
    changed = await run.install(
        f"{f.pool_dir}/{t.GLOBAL_DROP_IN}", run.templates.fpm_global(), validate=validate
    )
    pool = run.templates.fpm_pool(spec, f)
    changed = await run.install(t.pool_file(spec, f), pool, validate=validate) or changed
    if changed and not run.dry_run:
        status, _ = await run.run(fpm_reload(f))
        if status != 0:
            raise ProvisionFailed(f"PHP-FPM reload failed (exit {status})")
    return changed


async def nginx_site(run: ProvisionRun) -> bool:
    """The site's server block (and its certificate); `nginx -t`, then a graceful reload."""
    f, spec = run.facts, run.spec
    tls_changed = False
    if spec.https:
        cert, key = t.tls_paths(spec, f)
        tls_changed = await run.install(cert, spec.certificate, mode="0644")
        tls_changed = await run.install(key, spec.private_key, mode="0600") or tls_changed
    text = run.templates.nginx_site(spec, f)
    changed = await run.install(
        t.nginx_file(spec, f), text, validate=[*f.nginx_argv, "-t"], reload=nginx_reload(f)
    )
    if tls_changed and not changed and not run.dry_run:
        # Only the certificate changed: nginx reads it on a reload, after a check.
        status, _ = await run.run([*f.nginx_argv, "-t"])
        if status != 0 or (await run.run(nginx_reload(f)))[0] != 0:
            raise ProvisionFailed("nginx refused the new certificate (nginx -t)")
    return changed or tls_changed


async def lets_encrypt(run: ProvisionRun) -> bool:
    """Optional (SiteSpec.acme_email): a Let's Encrypt certificate through certbot's webroot
    challenge, served by the server block's /.well-known/acme-challenge/ location."""
    spec = run.spec
    if not spec.acme_email:
        return False
    if not spec.domains:
        raise ProvisionFailed("Let's Encrypt needs the site's domain")
    status, _ = await run.run(["sh", "-c", "command -v certbot"], label="is certbot installed?")
    if status != 0:
        raise ProvisionFailed("certbot is not installed on the server (apt-get install certbot); "
                              "the site is provisioned for HTTP, without a certificate")
    if run.dry_run:
        await run.note(f"would run: {join(t.certbot_command(spec))}")
        return False
    status, _ = await run.run(["mkdir", "-p", "--", t.ACME_WEBROOT])
    status, lines = await run.run(t.certbot_command(spec)) if status == 0 else (status, [])
    if status != 0:
        raise ProvisionFailed(f"certbot could not obtain the certificate (exit {status})")
    return not any("not yet due for renewal" in line for line in lines)


async def scheduler(run: ProvisionRun) -> bool:
    """Laravel's `schedule:run` every minute as the site's user (/etc/cron.d), or no entry."""
    path = t.cron_file(run.spec)
    if run.spec.scheduler:
        changed = await run.install(path, run.templates.cron_entry(run.spec))
        status, _ = await run.run(
            ["sh", "-c", "command -v cron >/dev/null"], label="is cron installed?"
        )
        if status != 0:
            await run.note(
                "warning: cron is not installed here (apt-get install cron): "
                f"{path} takes effect once it is"
            )
        return changed
    if run.dry_run:
        return False
    status, lines = await run.run(
        ["sh", "-c", 'test ! -e "$1" || { rm -f -- "$1"; echo removed; }', "sh", path],
        label=f"no scheduler: remove {path}",
    )
    return "removed" in lines


STEPS: tuple[Step, ...] = (
    root_access, detect_stack, site_user, php_fpm, nginx_site, lets_encrypt, scheduler,
)
# What every selection of steps needs first: root, the facts, and the user the files name.
PREREQUISITES: tuple[Step, ...] = (root_access, detect_stack, site_user)


def select(names: Sequence[str]) -> tuple[Step, ...]:
    """The steps named (in STEPS order) after their prerequisites; all of them for no names."""
    if not names:
        return STEPS
    unknown = set(names) - {step.__name__ for step in STEPS}
    if unknown:
        raise ValueError(f"unknown provisioning steps: {', '.join(sorted(unknown))}")
    return tuple(s for s in STEPS if s in PREREQUISITES or s.__name__ in names)
