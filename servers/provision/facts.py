"""What provisioning needs to know about a server, read from the server (never assumed).

`detect(conn)` reads: the installed php-fpm binaries and their versions, the running master's
php-fpm.conf (else the installed version's), its pid file and pool directory (its `include=`),
its compiled-in extensions, the running nginx master's flags and the directory its `http`
block includes server blocks from, and whether systemd runs the machine.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from servers.stack.check import parse_fpm, split_dump
from servers.stack.probe import FPM_DIRECTORIES, nginx_dump_argv
from servers.stack.scripts import script

_NGINX_MASTER = re.compile(r"^nginx: master process (?P<cmd>.+)$")
_FPM_MASTER = re.compile(r"^php-fpm: master process \((?P<conf>[^)]+)\)$")
_HTTP_INCLUDE = re.compile(r"^\s*include\s+(?P<dir>/\S+)/\*(?P<ext>\.conf)?\s*;", re.M)
_FPM_INCLUDE = re.compile(r"^\s*include\s*=\s*(?P<dir>/\S+)/\*\.conf\s*$", re.M)


@dataclass(frozen=True)
class HostFacts:
    """A server's PHP and nginx as provisioning found them."""

    php_versions: tuple[str, ...] = ()
    fpm_binary: str = ""
    fpm_service: str = ""  # e.g. php8.2-fpm (the systemd unit / init script name)
    fpm_conf: str = ""
    fpm_pid_file: str = ""
    pool_dir: str = ""
    extensions: tuple[str, ...] = ()
    nginx_argv: tuple[str, ...] = ("nginx",)  # binary plus the running master's -p/-c
    nginx_dir: str = ""  # where server blocks go (an `include DIR/*` of the http block)
    nginx_glob_conf: bool = False  # the include reads only *.conf files
    systemd: bool = False
    init_reason: str = ""  # why systemd or supervisor runs the site's workers here
    problems: tuple[str, ...] = field(default=())

    @property
    def php_version(self) -> str:
        return version_of(self.fpm_binary)

    def to_json(self) -> dict:
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(self).items()
        }


def init_system(run_dir: bool, pid1: str) -> tuple[bool, str]:
    """Whether systemd runs the machine, and why we think so: its runtime directory
    /run/systemd/system exists (what sd_booted() checks), or pid 1's name is systemd."""
    if run_dir:
        return True, "/run/systemd/system exists: workers run as systemd units"
    if pid1 == "systemd":
        return True, "pid 1 is systemd: workers run as systemd units"
    return False, (f"no /run/systemd/system and pid 1 is {pid1 or 'unreadable'}, not systemd: "
                   "workers run under supervisor")


def version_of(binary: str) -> str:
    """'/usr/sbin/php-fpm8.2' -> '8.2' ('' for an unversioned binary)."""
    match = re.search(r"php-fpm(\d+\.\d+)$", binary)
    return match.group(1) if match else ""


def parse_extensions(output: str) -> tuple[str, ...]:
    """`php -m` output -> sorted lower-case names (the section headers left out)."""
    names = {line.strip().lower().removeprefix("zend ") for line in output.splitlines()}
    return tuple(sorted(n for n in names if n and not n.startswith("[")))


def nginx_include_dir(dump: str) -> tuple[str, bool]:
    """The directory the main config includes server blocks from (sites-enabled first)."""
    files = split_dump(dump)
    text = files[0][1] if files else ""
    found = [(m.group("dir"), bool(m.group("ext"))) for m in _HTTP_INCLUDE.finditer(text)]
    found = [item for item in found if not item[0].endswith("modules-enabled")]
    found.sort(key=lambda item: ("sites-enabled" not in item[0], "conf.d" not in item[0]))
    return found[0] if found else ("", False)


def fpm_pool_dir(conf_text: str) -> str:
    """The `include=DIR/*.conf` directory of a php-fpm.conf ('' when it has none)."""
    match = _FPM_INCLUDE.search(conf_text)
    return match.group("dir") if match else ""


class _Root:
    """`conn`, with every command run as root (`as_root`: sudo -n for a user other than root:
    nginx -T and php-fpm -tt read files and open logs only root may)."""

    def __init__(self, conn, as_root: Sequence[str]) -> None:
        self.conn, self.as_root = conn, tuple(as_root)

    async def run(self, argv: Sequence[str], **options):
        return await self.conn.run([*self.as_root, *argv], **options)


async def _output(conn, argv: list[str]) -> tuple[int, str]:
    lines: list[str] = []
    result = await conn.run(argv, timeout=30, on_line=lambda line: lines.append(line.text))
    return result.exit_status, "\n".join(lines)


async def detect(conn, *, as_root: Sequence[str] = ()) -> HostFacts:
    """Read the server's PHP and nginx over `conn` (see the module docstring), as root
    through `as_root`."""
    conn = _Root(conn, as_root)
    problems: list[str] = []
    _, ps = await _output(conn, ["ps", "-eo", "args="])
    nginx_cmd = next((m.group("cmd") for m in map(_NGINX_MASTER.match, ps.splitlines()) if m), "")
    fpm_confs = [m.group("conf") for m in map(_FPM_MASTER.match, ps.splitlines()) if m]
    _, found = await _output(conn, ["sh", "-c", script("fpm_binaries.sh"), "sh", *FPM_DIRECTORIES])
    binaries = sorted(
        {line.strip() for line in found.splitlines() if line.strip()},
        key=lambda b: tuple(int(p) for p in (version_of(b) or "0.0").split(".")),
    )
    versions = tuple(v for v in map(version_of, binaries) if v)
    conf = fpm_confs[0] if fpm_confs else ""
    binary = _binary_for(conf, binaries)
    if not binary:
        problems.append("No php-fpm binary found (install php-fpm).")
    conf = conf or (f"/etc/php/{version_of(binary)}/fpm/php-fpm.conf" if binary else "")
    fpm = await _fpm_facts(conn, binary, conf, problems) if binary else {}
    nginx_argv = tuple(nginx_dump_argv(nginx_cmd or "nginx"))[:1] + _nginx_flags(nginx_cmd)
    status, dump = await _output(conn, [*nginx_argv, "-T"])
    nginx_dir, conf_only = nginx_include_dir(dump) if status == 0 else ("", False)
    if not nginx_dir:
        problems.append(
            f"nginx's http block includes no directory of server blocks (nginx -T exit {status})."
        )
    run_dir, _ = await _output(conn, ["test", "-d", "/run/systemd/system"])
    _, pid1 = await _output(conn, ["cat", "/proc/1/comm"])
    systemd, init_reason = init_system(run_dir == 0, pid1.strip())
    return HostFacts(
        php_versions=versions,
        fpm_binary=binary,
        fpm_service=f"php{version_of(binary)}-fpm",
        fpm_conf=conf,
        nginx_argv=nginx_argv,
        nginx_dir=nginx_dir,
        nginx_glob_conf=conf_only,
        systemd=systemd,
        init_reason=init_reason,
        problems=tuple(problems),
        **fpm,
    )


def _binary_for(conf: str, binaries: list[str]) -> str:
    """The binary of the running master's version (from its conf path), else the newest."""
    for binary in binaries:
        if version_of(binary) and f"/{version_of(binary)}/" in conf:
            return binary
    return binaries[-1] if binaries else ""


def _nginx_flags(master_cmd: str) -> tuple[str, ...]:
    words = shlex.split(master_cmd) if master_cmd else []
    flags: list[str] = []
    for flag in ("-p", "-c"):
        if flag in words[:-1]:
            flags += [flag, words[words.index(flag) + 1]]
    return tuple(flags)


async def _fpm_facts(conn, binary: str, conf: str, problems: list[str]) -> dict:
    status, dump = await _output(conn, [binary, "-tt", "--fpm-config", conf])
    settings = parse_fpm(dump)
    _, conf_text = await _output(conn, ["cat", "--", conf])
    pool_dir = fpm_pool_dir(conf_text)
    if not pool_dir:
        problems.append(f"{conf} includes no pool directory (include=DIR/*.conf).")
    _, modules = await _output(conn, [binary, "-m"])
    pid_file = settings.get("pid", "")
    if pid_file and not posixpath.isabs(pid_file):
        pid_file = posixpath.join("/var/run", pid_file)
    return {"fpm_pid_file": pid_file, "pool_dir": pool_dir, "extensions": parse_extensions(modules)}
