"""The server stack check: will a `current` switch reach users at once, without dropping requests?

Pure parsing and judging (no I/O). `servers/stack/probe.py` collects the inputs over SSH:
`nginx -T` for each running nginx master, `php-fpm -tt` for each running php-fpm master, and
the OPcache settings of the FPM SAPI. Measured on Debian 12 (docs/server-setup.md):

- nginx with `$document_root` keeps serving the OLD release for minutes after the switch (PHP's
  realpath cache); `$realpath_root` for SCRIPT_FILENAME and DOCUMENT_ROOT fixes it.
- a graceful PHP-FPM reload (SIGUSR2) with `process_control_timeout = 0` drops in-flight requests
  (502s and truncated 200s); any value > 0 lets them finish.
- with `opcache.validate_timestamps = 0`, only a reload makes PHP see new code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FILE_HEADER = re.compile(r"^# configuration file (?P<path>.+):$")
_FPM_SETTING = re.compile(r"NOTICE:\s+(?P<key>[a-z_.]+) = (?P<value>.*)$")


@dataclass(frozen=True)
class Directive:
    name: str
    args: tuple[str, ...]
    file: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class NginxServer:
    file: str
    line: int
    root: Directive | None = None
    names: tuple[str, ...] = ()
    fastcgi_pass: str = ""
    # fastcgi_param NAME value, from inside the server block (any location).
    fastcgi_params: dict[str, Directive] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warning | error
    code: str
    message: str
    fix: str = ""


def _tokens(text: str, file: str) -> list[tuple[str, str, int]]:
    """Split nginx config text into (kind, value, line) tokens: word, '{', '}', ';'."""
    tokens: list[tuple[str, str, int]] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0] if not raw.lstrip().startswith("#") else ""
        for match in re.finditer(r'"[^"]*"|\'[^\']*\'|[{};]|[^\s{};]+', line):
            word = match.group(0)
            kind = word if word in "{};" else "word"
            tokens.append((kind, word.strip("\"'"), lineno))
    return tokens


def split_dump(dump: str) -> list[tuple[str, str]]:
    """`nginx -T` prints each file after a '# configuration file X:' header."""
    files: list[tuple[str, list[str]]] = []
    for line in dump.splitlines():
        header = _FILE_HEADER.match(line)
        if header:
            files.append((header.group("path"), []))
        elif files:
            files[-1][1].append(line)
    return [(path, "\n".join(lines)) for path, lines in files]


def parse_nginx(dump: str) -> list[NginxServer]:
    """Every `server { }` block of an `nginx -T` dump, with its root and fastcgi params."""
    servers: list[NginxServer] = []
    for path, text in split_dump(dump):
        stack: list[str] = []
        words: list[tuple[str, int]] = []
        current: NginxServer | None = None
        for kind, value, line in _tokens(text, path):
            if kind == "word":
                words.append((value, line))
            elif kind == "{":
                name = words[0][0] if words else ""
                stack.append(name)
                # A server block sits in `http` or at the top of an included file.
                if name == "server" and stack[:-1] in (["http"], []):
                    current = NginxServer(file=path, line=words[0][1] if words else line)
                    servers.append(current)
                words = []
            elif kind == "}":
                if stack and stack.pop() == "server":
                    current = None
                words = []
            else:  # ';' ends a directive
                if words and current is not None:
                    directive, at = words[0]
                    _record(current, Directive(directive, tuple(w for w, _ in words[1:]), path, at))
                words = []
    return servers


def _record(server: NginxServer, directive: Directive) -> None:
    if directive.name == "root":
        server.root = directive
    elif directive.name == "server_name":
        server.names = directive.args
    elif directive.name == "fastcgi_param" and directive.args:
        server.fastcgi_params[directive.args[0]] = directive
    elif directive.name == "fastcgi_pass" and directive.args:
        server.fastcgi_pass = directive.args[0]


def parse_fpm(dump: str) -> dict[str, str]:
    """Global settings from `php-fpm -tt` (NOTICE lines before the first pool)."""
    settings: dict[str, str] = {}
    in_global = False
    for line in dump.splitlines():
        if "NOTICE: [global]" in line:
            in_global = True
        elif re.search(r"NOTICE: \[[^\]]+\]", line):
            in_global = False
        elif in_global and (match := _FPM_SETTING.search(line)):
            settings[match.group("key")] = match.group("value").strip()
    return settings


def parse_fpm_listens(dump: str) -> list[str]:
    """Every pool's `listen` address from `php-fpm -tt`."""
    return [m.group("value").strip() for m in map(_FPM_SETTING.search, dump.splitlines())
            if m and m.group("key") == "listen"]


def same_address(fastcgi_pass: str, listen: str) -> bool:
    """nginx `unix:/run/php.sock` or `127.0.0.1:9000` against an FPM `listen` value."""
    a = fastcgi_pass.removeprefix("unix:")
    b = listen.removeprefix("unix:")
    if a == b:
        return True
    return b.isdigit() and a.rsplit(":", 1)[-1] == b


def parse_opcache(info: str) -> dict[str, str]:
    """`php-fpm -i` lines like 'opcache.validate_timestamps => On => On' (local value)."""
    values: dict[str, str] = {}
    for line in info.splitlines():
        parts = [p.strip() for p in line.split("=>")]
        if len(parts) >= 2 and parts[0].startswith("opcache."):
            values[parts[0]] = parts[1]
    return values


def seconds(value: str) -> float:
    """'10s', '10', '2m', '0' -> seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", value or "")
    if not match:
        return 0.0
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def server_for_site(
    servers: list[NginxServer], deploy_path: str, web_dir: str
) -> NginxServer | None:
    """The server block whose root is inside the site's deploy path."""
    deploy_path = deploy_path.rstrip("/")
    for server in servers:
        if server.root and server.root.args and server.root.args[0].startswith(deploy_path + "/"):
            return server
    return None


def check_site(
    *,
    deploy_path: str,
    web_dir: str,
    nginx: list[NginxServer],
    fpm: dict[str, str] | None,
    opcache: dict[str, str] | None,
    reload_method: str,
) -> list[Finding]:
    """Judge one site's stack; every non-ok finding says the exact line to change."""
    findings: list[Finding] = []
    expected_root = f"{deploy_path.rstrip('/')}/current/{web_dir}".rstrip("/")
    server = server_for_site(nginx, deploy_path, web_dir)
    if server is None or server.root is None:
        findings.append(Finding("warning", "nginx_site_missing",
                                f"No nginx server block serves {expected_root}.",
                                f"root {expected_root};"))
    else:
        findings += _check_root(server, expected_root)
        findings += _check_realpath(server)
    findings += _check_fpm(fpm)
    findings += _check_opcache(opcache, reload_method, fpm)
    return findings


def _check_root(server: NginxServer, expected_root: str) -> list[Finding]:
    root = server.root.args[0].rstrip("/")
    if root == expected_root:
        return [Finding("ok", "root_through_current", f"Web root {root} goes through current.")]
    return [Finding("error", "root_not_current",
                    f"{server.root.where}: root {root} does not go through the current symlink.",
                    f"root {expected_root};")]


def _check_realpath(server: NginxServer) -> list[Finding]:
    findings = []
    wanted = {
        "SCRIPT_FILENAME": "$realpath_root$fastcgi_script_name",
        "DOCUMENT_ROOT": "$realpath_root",
    }
    for name, value in wanted.items():
        directive = server.fastcgi_params.get(name)
        current = " ".join(directive.args[1:]) if directive else ""
        if current.startswith("$realpath_root"):
            message = f"{name} uses $realpath_root."
            findings.append(Finding("ok", f"realpath_{name.lower()}", message))
            continue
        where = directive.where if directive else f"{server.file}:{server.line}"
        findings.append(Finding(
            "error", f"realpath_{name.lower()}",
            f"{where}: {name} is {current or 'not set in the server block'}; PHP would keep "
            "serving the old release after a switch (realpath cache).",
            f"fastcgi_param {name} {value};"))
    return findings


def _check_fpm(fpm: dict[str, str] | None) -> list[Finding]:
    if fpm is None:
        return [Finding("warning", "fpm_unknown", "Could not read the PHP-FPM configuration.")]
    timeout = seconds(fpm.get("process_control_timeout", "0"))
    if timeout > 0:
        return [Finding("ok", "fpm_process_control_timeout",
                        f"process_control_timeout = {fpm['process_control_timeout']}: a graceful "
                        "reload lets in-flight requests finish.")]
    return [Finding("error", "fpm_process_control_timeout",
                    "process_control_timeout = 0: "
                    "a PHP-FPM reload kills in-flight requests (502s).",
                    "process_control_timeout = 10s   ; in the [global] section of php-fpm.conf")]


def _check_opcache(
    opcache: dict[str, str] | None, reload_method: str, fpm: dict | None
) -> list[Finding]:
    if not opcache or opcache.get("opcache.enable", "Off").lower() not in ("on", "1"):
        return [Finding("ok", "opcache_off", "OPcache is off: each request reads the new release.")]
    validates = opcache.get("opcache.validate_timestamps", "On").lower() in ("on", "1")
    if validates:
        return [Finding("ok", "opcache_validates",
                        "OPcache validates timestamps; new release paths are compiled fresh.")]
    if reload_method == "none":
        return [Finding("error", "opcache_stale",
                        "opcache.validate_timestamps = Off and no reload after deploy: PHP keeps "
                        "the old code cached.", "Set the site's reload method to PHP-FPM reload.")]
    return [Finding("ok", "opcache_reload",
                    "opcache.validate_timestamps = Off; the post-deploy reload empties OPcache.")]


def reload_is_safe(fpm: dict[str, str] | None) -> bool:
    """A graceful FPM reload drops no request only when process_control_timeout > 0."""
    return fpm is not None and seconds(fpm.get("process_control_timeout", "0")) > 0


def choose_reload(findings: list[Finding], fpm: dict[str, str] | None) -> str:
    """How the reload step should pick up the new release without dropping requests.

    'reload' when a graceful reload is safe (or unavoidable because OPcache never revalidates);
    'skip' when the stack already serves new paths at once and a reload would drop requests.
    """
    if reload_is_safe(fpm):
        return "reload"
    stale_without_reload = any(f.code == "opcache_reload" for f in findings)
    realpath_ok = all(f.level == "ok" for f in findings if f.code.startswith("realpath_"))
    return "reload" if stale_without_reload or not realpath_ok else "skip"
