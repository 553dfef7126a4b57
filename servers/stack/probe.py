"""Collect what the stack check judges, over one SSH connection (see servers/stack/check.py).

Running masters are found by their process titles, so the check reads the configuration that is
actually live (also for nginx/php-fpm started with private `-c`/`--fpm-config` files):
    nginx: master process /usr/sbin/nginx -p PREFIX -c CONF -g daemon off;
    php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass

from servers.stack.check import (
    NginxServer,
    check_site,
    choose_reload,
    parse_fpm,
    parse_fpm_listens,
    parse_nginx,
    parse_opcache,
    same_address,
    server_for_site,
)
from servers.stack.scripts import script

_NGINX_MASTER = re.compile(r"^nginx: master process (?P<cmd>.+)$")
_FPM_MASTER = re.compile(r"^php-fpm: master process \((?P<conf>[^)]+)\)$")
# Where Debian and most distributions install php-fpm<version>.
FPM_DIRECTORIES = ("/usr/sbin", "/usr/bin")


@dataclass
class FpmMaster:
    conf: str | None
    settings: dict[str, str] | None  # [global] section
    listens: list[str]
    opcache: dict[str, str] | None


@dataclass
class StackFacts:
    nginx: list[NginxServer]
    fpm: list[FpmMaster]
    notes: list[str]

    def fpm_for(self, server: NginxServer | None) -> FpmMaster | None:
        """The FPM master whose pool the server block passes PHP to (else the only one)."""
        for master in self.fpm:
            if server and any(same_address(server.fastcgi_pass, lst) for lst in master.listens):
                return master
        return self.fpm[0] if len(self.fpm) == 1 else None


async def _output(conn, argv: list[str]) -> tuple[int, str]:
    lines: list[str] = []
    result = await conn.run(argv, timeout=30, on_line=lambda line: lines.append(line.text))
    return result.exit_status, "\n".join(lines)


def nginx_dump_argv(master_cmd: str) -> list[str]:
    """`nginx -T` with the same binary, prefix and config file as a running master."""
    words = shlex.split(master_cmd)
    argv = [words[0] if words and words[0].startswith("/") else "nginx", "-T"]
    for flag in ("-p", "-c"):
        if flag in words[:-1]:
            argv += [flag, words[words.index(flag) + 1]]
    return argv


async def _fpm_binary(conn) -> str | None:
    argv = ["sh", "-c", script("fpm_binaries.sh"), "sh", *FPM_DIRECTORIES]
    status, out = await _output(conn, argv)
    binaries = sorted(line.strip() for line in out.splitlines() if line.strip())
    return binaries[-1] if binaries else None


async def collect(conn) -> StackFacts:
    """Read nginx, PHP-FPM and OPcache settings of the live masters on the connected host."""
    notes: list[str] = []
    _, ps = await _output(conn, ["ps", "-eo", "args="])
    nginx_cmds = [m.group("cmd") for m in map(_NGINX_MASTER.match, ps.splitlines()) if m]
    fpm_confs = [m.group("conf") for m in map(_FPM_MASTER.match, ps.splitlines()) if m]
    servers: list[NginxServer] = []
    for cmd in nginx_cmds or ["nginx"]:
        status, dump = await _output(conn, nginx_dump_argv(cmd))
        if status != 0:
            notes.append(
                f"nginx -T failed (exit {status}); "
                "is the user allowed to read nginx's configuration?"
            )
        servers += parse_nginx(dump)
    masters: list[FpmMaster] = []
    binary = await _fpm_binary(conn)
    if binary is None:
        notes.append("No php-fpm binary found.")
    for conf in (fpm_confs or [None]) if binary else []:
        masters.append(await _fpm_master(conn, binary, conf, notes))
    return StackFacts(nginx=servers, fpm=masters, notes=notes)


async def _fpm_master(conn, binary: str, conf: str | None, notes: list[str]) -> FpmMaster:
    test = [binary, "--allow-to-run-as-root", "-tt"] + (["--fpm-config", conf] if conf else [])
    status, dump = await _output(conn, test)
    fpm = parse_fpm(dump) or None
    if fpm is None:
        notes.append(f"php-fpm -tt printed no settings (exit {status}).")
    # Debian keeps the FPM SAPI's php.ini beside php-fpm.conf (as do our test hosts).
    info_argv = [binary, "-i"]
    if conf:
        info_argv = [binary, "-c", posixpath.join(posixpath.dirname(conf), "php.ini"), "-i"]
    status, info = await _output(conn, info_argv)
    if status != 0 and conf:
        status, info = await _output(conn, [binary, "-i"])
    return FpmMaster(conf, fpm, parse_fpm_listens(dump), parse_opcache(info) or None)


def judge_site(facts: StackFacts, *, deploy_path: str, web_dir: str, reload_method: str):
    """The stack check's findings for one site, and the reload the pipeline should use."""
    master = facts.fpm_for(server_for_site(facts.nginx, deploy_path, web_dir))
    settings = master.settings if master else None
    findings = check_site(
        deploy_path=deploy_path, web_dir=web_dir, nginx=facts.nginx, fpm=settings,
        opcache=master.opcache if master else None, reload_method=reload_method,
    )
    return findings, choose_reload(findings, settings)
