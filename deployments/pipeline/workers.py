"""The site's workers and daemons on a server: their process-manager config, their restart
after a switch, and the check that each one runs the release `current` points at.

Pure builders and parsers (no I/O). Supervisor runs the workers where systemd is absent (what
these machines and the tests have); `systemd_unit` is the unit the same worker gets on a
systemd host (its text is checked with `systemd-analyze verify` by the tests). Every program
runs from `<deploy_path>/current`: supervisor resolves that symlink when it starts a process,
so a restart after the switch puts the worker in the new release, and /proc/<pid>/cwd says
which release a process really runs. Each process carries DEPLOYNIX_WORKER=<tag> in its
environment, so even a child that escaped its process group (and outlived a restart) is found.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from deployments.pipeline.actions import Command
from deployments.pipeline.context import DeployContext, Paths, WorkerSpec
from deployments.pipeline.lock import CHECK
from deployments.pipeline.scripts import script

APPLY_SCRIPT = script("workers_apply.sh")
REPORT_SCRIPT = script("workers_report.sh")
SYSTEMD_SCRIPT = script("workers_systemd.sh")
SYSTEMD_REPORT_SCRIPT = script("workers_systemd_report.sh")
SYSTEMD_UNIT_DIR = "/etc/systemd/system"
TAG_VARIABLE = "DEPLOYNIX_WORKER"
# Exit status of workers_apply.sh when the new config was refused (and the old one restored).
CONFIG_REFUSED = 4
# ... and when a process did not come back from its restart (the report then says which).
RESTART_FAILED = 6


def tag(ctx: DeployContext, worker: WorkerSpec) -> str:
    """The DEPLOYNIX_WORKER value of every process of `worker` (unique on the server)."""
    return f"{worker.program}@{Paths.of(ctx).deploy}"


def octane_command(server: str, port: int = 8000) -> str:
    """The command of an Octane daemon that names no command of its own."""
    return f"php artisan octane:start --server={server} --host=127.0.0.1 --port={port}"


def supervisor_config(ctx: DeployContext, user: str) -> str:
    """The site's supervisor programs and their group, as one conf.d file ("" for none)."""
    if not ctx.workers:
        return ""
    sections = [_program(ctx, worker, user) for worker in ctx.workers]
    programs = ",".join(worker.program for worker in ctx.workers)
    sections.append(f"[group:{ctx.worker_group}]\nprograms={programs}\n")
    header = f"; Written by Deploynix for the site in {Paths.of(ctx).deploy}: edits are replaced.\n"
    return header + "\n".join(sections)


def _program(ctx: DeployContext, worker: WorkerSpec, user: str) -> str:
    # The command is run without a shell (supervisor splits it like one, shlex, and expands
    # %(...)s: hence %%), so the worker itself gets the stop signal and supervisor waits for
    # it, not for a shell that died at once while the worker still finishes its job.
    lines = [
        f"[program:{worker.program}]",
        f"command={_percent(worker.command)}",
        f"directory={_percent(Paths.of(ctx).current)}",
        f"process_name=%(program_name)s_%(process_num)02d\nnumprocs={worker.processes}",
        f"user={user}" if user else "",
        "autostart=true\nautorestart=true\nstartsecs=1\nstopsignal=TERM",
        f"stopwaitsecs={worker.stop_wait}",
        # The whole process group gets the stop (and the kill after stopwaitsecs): children
        # of `php artisan` must not outlive their worker.
        "stopasgroup=true\nkillasgroup=true\nredirect_stderr=true",
        f'environment={TAG_VARIABLE}="{_percent(tag(ctx, worker))}"',
    ]
    return "\n".join(line for line in lines if line) + "\n"


def systemd_unit_name(worker: WorkerSpec) -> str:
    """The template unit of `worker` (instances `<program>@1` ... `@N`)."""
    return f"{worker.program}@.service"


def systemd_unit(ctx: DeployContext, worker: WorkerSpec, user: str) -> str:
    """The systemd template unit `worker` gets on a host with systemd."""
    reload = ""
    if worker.octane:
        reload = f"ExecReload={_systemd_command(_octane_reload_text(worker))}\n"
    return (
        "[Unit]\n"
        f"Description=Deploynix worker {worker.name} of {Paths.of(ctx).deploy} (%i)\n"
        "After=network.target\n\n"
        "[Service]\n"
        "Type=simple\n"
        + (f"User={user}\n" if user else "")
        + f"WorkingDirectory={_systemd_escape(Paths.of(ctx).current)}\n"
        f'Environment="{TAG_VARIABLE}={_systemd_escape(tag(ctx, worker))}"\n'
        f"ExecStart={_systemd_command(worker.command)}\n"
        + reload
        + "Restart=always\nRestartSec=1\nKillMode=control-group\nKillSignal=SIGTERM\n"
        f"TimeoutStopSec={worker.stop_wait}\n\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )


def systemd_apply(ctx: DeployContext, user: str, unit_dir: str = SYSTEMD_UNIT_DIR) -> Command:
    """On a systemd host: install the site's template units (verified, atomically; the
    site's units no longer listed removed), daemon-reload, then enable and restart each
    instance, or reload an Octane daemon's (its ExecReload) (scripts/workers_systemd.sh)."""
    words: list[str] = []
    for worker in ctx.workers:
        words += [systemd_unit_name(worker), str(worker.processes),
                  "reload" if worker.octane else "restart", systemd_unit(ctx, worker, user)]
    argv = ("sh", "-c", SYSTEMD_SCRIPT, "workers_systemd", unit_dir, f"{ctx.worker_group}-",
            *words)
    names = ", ".join(worker.name for worker in ctx.workers) or "none (removing any left)"
    return Command(argv, fence=CHECK, retry=True, as_root=True,
                   label=f"systemd: install and restart the workers of this site: {names}")


def systemd_report(ctx: DeployContext) -> Command:
    """`report` on a systemd host: each instance's state and MainPID (`systemctl show`), and
    every tagged process with its working directory, in the words parse_report reads."""
    pairs = [word for worker in ctx.workers
             for n, name in enumerate(worker.process_names, start=1)
             for word in (name, f"{worker.program}@{n}.service")]
    argv = ("sh", "-c", SYSTEMD_REPORT_SCRIPT, "workers_systemd_report", Paths.of(ctx).current,
            TAG_VARIABLE, ctx.worker_group, *pairs, "--",
            *(tag(ctx, worker) for worker in ctx.workers))
    return Command(argv, label=f"systemd: which release each worker of {ctx.worker_group} "
                               "runs (MainPID, /proc/<pid>/cwd)", retry=True, as_root=True)


def apply(ctx: DeployContext, supervisor_conf: str, user: str) -> Command:
    """Write the site's conf.d file atomically (none left: remove it), reread and update the
    group (a refused config is put back), then restart every plain worker's processes."""
    restart = [f"{ctx.worker_group}:{name}" for worker in ctx.workers if not worker.octane
               for name in worker.process_names]
    argv = ("sh", "-c", APPLY_SCRIPT, "workers_apply", supervisor_conf, ctx.worker_group,
            *restart)
    names = ", ".join(worker.name for worker in ctx.workers) or "none (removing any left)"
    return Command(argv, stdin=supervisor_config(ctx, user).encode(), fence=CHECK, retry=True,
                   as_root=True,
                   label=f"supervisor: install and restart the workers of this site: {names}")


def octane_reloads(ctx: DeployContext) -> list[Command]:
    """Gracefully reload each Octane daemon (its workers pick up the code `current` holds)."""
    return [
        Command(("php", "artisan", "octane:reload", f"--server={worker.octane}"),
                cwd=Paths.of(ctx).current, retry=True)
        for worker in ctx.workers if worker.octane
    ]


def report(ctx: DeployContext, supervisor_conf: str) -> Command:
    """Print `current`'s real path, the group's process states, and every tagged process
    with its working directory (see parse_report)."""
    tags = [tag(ctx, worker) for worker in ctx.workers]
    argv = ("sh", "-c", REPORT_SCRIPT, "workers_report", supervisor_conf, ctx.worker_group,
            Paths.of(ctx).current, TAG_VARIABLE, *tags)
    return Command(argv, label=f"supervisor: which release each worker of {ctx.worker_group} "
                               "runs (/proc/<pid>/cwd)", retry=True, as_root=True)


@dataclass
class WorkerReport:
    """What workers_report.sh saw: `current` resolved, states by process, tagged processes."""

    current: str = ""
    states: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    processes: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # tag -> (pid, cwd)


def parse_report(lines: list[str]) -> WorkerReport:
    """Read workers_report.sh's lines (`current P`, `status <supervisorctl line>`,
    `proc TAG PID CWD`)."""
    seen = WorkerReport()
    for line in lines:
        kind, _, rest = line.partition(" ")
        if kind == "current":
            seen.current = rest
        elif kind == "status":
            words = rest.split()
            if len(words) >= 2:
                pid = words[3].rstrip(",") if len(words) > 3 and words[2] == "pid" else ""
                seen.states[words[0]] = (words[1], int(pid) if pid.isdigit() else None)
        elif kind == "proc":
            tag_value, pid, cwd = (rest.split(" ", 2) + ["", ""])[:3]
            if pid.isdigit():
                seen.processes.setdefault(tag_value, []).append((int(pid), cwd))
    return seen


def problems(ctx: DeployContext, seen: WorkerReport, release: str) -> list[str]:
    """Why the workers do not all run `release` (the release `current` must point at)."""
    if posixpath.basename(seen.current) != release:
        return [f"current resolves to {seen.current or 'nothing'}, not release {release}"]
    found: list[str] = []
    for worker in ctx.workers:
        found += _worker_problems(ctx, worker, seen)
    return found


def _worker_problems(ctx: DeployContext, worker: WorkerSpec, seen: WorkerReport) -> list[str]:
    cwds = dict(seen.processes.get(tag(ctx, worker), []))
    found = []
    for name in worker.process_names:
        state, pid = seen.states.get(f"{ctx.worker_group}:{name}", ("MISSING", None))
        if state != "RUNNING":
            found.append(f"worker {worker.name}: process {name} is {state}, not RUNNING")
        elif not worker.octane and pid not in cwds:
            found.append(f"worker {worker.name}: process {name} (pid {pid}) is gone")
    for pid, cwd in sorted(cwds.items()):
        if not _inside(cwd, seen.current):
            found.append(f"worker {worker.name}: pid {pid} still runs in {cwd}, "
                         f"not in the new release {seen.current}")
    return found


def _inside(cwd: str, release: str) -> bool:
    return cwd == release or cwd.startswith(release + "/")


def stale_octane(ctx: DeployContext, seen: WorkerReport) -> list[WorkerSpec]:
    """The Octane daemons a graceful reload left in another release. Octane takes its base
    path once, resolved, when it starts (laravel/octane#1004, #338): `octane:reload` renews its
    workers from that path, so after a switch of `current` they still run the old code."""
    return [worker for worker in ctx.workers if worker.octane and any(
        not _inside(cwd, seen.current) for _pid, cwd in seen.processes.get(tag(ctx, worker), []))]


def restart_processes(ctx: DeployContext, supervisor_conf: str, stale: list[WorkerSpec],
                      systemd: bool = False) -> Command:
    """Restart every process of the `stale` workers (supervisorctl, or systemctl's instances):
    a stop and a start from `current`, so they run the release it points at."""
    if systemd:
        argv = ("systemctl", "restart", *(f"{worker.program}@{n}.service" for worker in stale
                                          for n in range(1, worker.processes + 1)))
    else:
        names = [name for worker in stale for name in worker.process_names]
        argv = ("supervisorctl", "-c", supervisor_conf, "restart",
                *(f"{ctx.worker_group}:{name}" for name in names))
    return Command(argv, fence=CHECK, retry=True, as_root=True)


def _octane_reload_text(worker: WorkerSpec) -> str:
    return f"php artisan octane:reload --server={worker.octane}"


def _percent(text: str) -> str:
    return text.replace("%", "%%")


def _systemd_escape(text: str) -> str:
    """A value systemd reads back verbatim inside double quotes (no specifiers, no $VAR)."""
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
            .replace("$", "$$"))


def _systemd_command(command: str) -> str:
    """A command line for ExecStart: systemd splits it like a shell (quotes kept), without
    expanding specifiers (%%) or variables ($$)."""
    return command.replace("%", "%%").replace("$", "$$")
