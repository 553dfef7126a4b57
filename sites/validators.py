"""Validation of every user-supplied site setting that ends up on a server.

These values reach git, the remote filesystem and the deploy shell, so each validator
is a whitelist, not a blacklist: anything we cannot prove harmless is refused. The same
functions back the model fields, the form and the services (`site_create`, `site_update`).
Each `clean_*` function returns the normalized value or raises ValidationError.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
import shlex
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

import asyncssh
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

# scp-like `git@github.com:owner/repo.git`: user and host may not start with "-".
_SCP_URL = re.compile(
    r"(?P<user>[A-Za-z0-9_][A-Za-z0-9._-]*)@(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*)"
    r":(?P<path>[A-Za-z0-9_~][A-Za-z0-9._~/-]*)"
)
_URL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}")
_BRACKETED_HOST = re.compile(r"\[(?P<host>[0-9A-Fa-f:.]{2,45})\](?::(?P<port>[^:]*))?")
_URL_PATH = re.compile(r"/[A-Za-z0-9._~/+-]*")
_URL_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_BRANCH_CHARS = re.compile(r"[A-Za-z0-9._/+-]+")
_PATH_CHARS = re.compile(r"[A-Za-z0-9._/@+-]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Trees that belong to the operating system: nothing may be deployed in or under them.
SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32",
                "/proc", "/run", "/sbin", "/sys", "/usr", "/var/lib", "/var/log", "/var/spool",
                "/var/mail", "/var/backups", "/var/cache", "/var/run", "/var/lock")
# Directories that hold other things: deploying INTO them is fine, AS them is not.
SYSTEM_DIRS = ("/", "/home", "/mnt", "/media", "/opt", "/root", "/srv", "/tmp", "/var",  # noqa: S108
               "/var/www")

# Variables that change how the shell, the dynamic linker or git behave: a site's env
# must not be able to run code before the deploy script does.
DANGEROUS_ENV_NAMES = frozenset({
    "BASH_ENV", "BASHOPTS", "CDPATH", "ENV", "GLOBIGNORE", "HOME", "IFS", "PATH",
    "PROMPT_COMMAND", "PS1", "PS2", "PS4", "SHELL", "SHELLOPTS", "SSH_AUTH_SOCK",
    "PERL5OPT", "PERL5LIB", "PYTHONPATH", "PYTHONSTARTUP", "NODE_OPTIONS", "RUBYOPT",
    "PHPRC", "PHP_INI_SCAN_DIR",
})
DANGEROUS_ENV_PREFIXES = ("LD_", "DYLD_", "GIT_", "BASH_FUNC_", "SSH_")

# Bounds on what a site may hold (each refused with a clear error, never cut silently).
MAX_REPOSITORY_URL = 500
MAX_DEPLOY_SCRIPT = 65_536
MAX_ENV_VARIABLES = 200
MAX_ENV_NAME = 100
MAX_ENV_VALUE = 8_192
MAX_SHARED_PATHS = 50
MAX_PATH_LENGTH = 255
MAX_BUILD_COMMANDS = 50
MAX_BUILD_COMMAND = 2_000
MAX_RELOAD_ARGS = 20
MAX_RELOAD_ARG = 255
MAX_KNOWN_HOSTS_LINES = 50
# A hook script (sites.models.SiteHook) is bounded like the deploy script; its timeout in
# seconds, within the pipeline's own step timeout (DEPLOYNIX_DEPLOY_STEP_TIMEOUT) in practice.
DEFAULT_HOOK_TIMEOUT = 300
MAX_HOOK_TIMEOUT = 3_600


def _has_control_or_space(value: str) -> bool:
    return any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value)


def clean_repository_url(value: str) -> str:
    """`git@host:owner/repo.git`, `ssh://[user@]host[:port]/path` or `https://host/path`.

    Refused: leading "-" (git would read an option such as -oProxyCommand), `ext::` and
    `file://` transports, whitespace and control characters, credentials inside the URL,
    malformed bracketed (IPv6) hosts and ports outside 1-65535.
    """
    value = (value or "").strip()
    if not value or value.startswith("-") or _has_control_or_space(value):
        raise ValidationError(
            "Enter a git repository URL (git@host:owner/repo.git, ssh:// or https://)."
        )
    if len(value) > MAX_REPOSITORY_URL:
        raise ValidationError(f"The repository URL is longer than {MAX_REPOSITORY_URL} characters.")
    if _SCP_URL.fullmatch(value):
        return value
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed "[" in the host
        raise ValidationError("The host in the repository URL is not valid.") from None
    if parts.scheme not in ("ssh", "https"):
        raise ValidationError("Only git@host:path, ssh:// and https:// URLs are allowed.")
    _check_url_parts(parts)
    return value


def _check_url_parts(parts) -> None:
    user, _, hostport = parts.netloc.rpartition("@")
    if parts.scheme == "https" and user:
        raise ValidationError("Put the access token in the token field, not in the URL.")
    if user and not _URL_USER.fullmatch(user):
        raise ValidationError("The user name in the repository URL is not valid.")
    _check_host_and_port(hostport)
    if not _URL_PATH.fullmatch(parts.path) or parts.path == "/" or parts.query or parts.fragment:
        raise ValidationError("The repository path in the URL is not valid.")


def _check_host_and_port(hostport: str) -> None:
    """`name[:port]` or `[ipv6][:port]`: the bracketed form must hold a real IPv6 address."""
    bracketed = _BRACKETED_HOST.fullmatch(hostport)
    if bracketed:
        host, port = bracketed["host"], bracketed["port"] or ""
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValidationError("The IPv6 address in the repository URL is not valid.") from None
    else:
        host, _, port = hostport.partition(":")
        if not _URL_NAME.fullmatch(host):
            raise ValidationError("The host in the repository URL is not valid.")
    if port and not (port.isdigit() and len(port) <= 5 and 1 <= int(port) <= 65535):
        raise ValidationError("The port in the repository URL must be between 1 and 65535.")


def clean_branch(value: str) -> str:
    """A branch name by `git check-ref-format --branch` rules, restricted to a safe alphabet."""
    value = (value or "").strip()
    if not value or not _BRANCH_CHARS.fullmatch(value):
        raise ValidationError("Branch names may use letters, digits and . _ / + - only.")
    components = value.split("/")
    bad = (
        value.startswith("-")
        or value.endswith((".", "/", ".lock"))
        or ".." in value
        or value == "@"
        or any(not part or part.startswith(".") or part.endswith(".lock") for part in components)
    )
    if bad:
        raise ValidationError("This is not a valid git branch name.")
    return value


def clean_deploy_path(value: str) -> str:
    """An absolute, normalized directory outside the operating system's own trees."""
    value = (value or "").strip()
    if not value.startswith("/") or not _PATH_CHARS.fullmatch(value):
        raise ValidationError("Use an absolute path of letters, digits and . _ - @ + /.")
    parts = value.split("/")
    if ".." in parts or any(part.startswith("-") for part in parts):
        raise ValidationError("The deploy path may not contain '..' or parts starting with '-'.")
    path = posixpath.normpath(value)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    if path in SYSTEM_DIRS or any(path == t or path.startswith(t + "/") for t in SYSTEM_TREES):
        raise ValidationError(f"{path} is a system directory; deploy into a directory of its own.")
    if any(part.startswith(".") for part in path.split("/")):
        # .ssh, .gnupg, .config, ...: where keys and settings live, never a site.
        raise ValidationError("The deploy path may not be in or under a hidden directory.")
    return path


def deploy_path_outside(path: str, roots: Iterable[str], home: str) -> bool:
    """Whether `path` (normalized) lies outside every root ("~" is `home`): it must be
    strictly below one. The server checks again with symlinks resolved (guard.sh)."""
    for root in roots:
        base = posixpath.normpath(home if root == "~" else root)
        if path.startswith(base.rstrip("/") + "/"):
            return False
    return True


def clean_relative_path(value: str, *, what: str = "path", allow_root: bool = False) -> str:
    """A normalized path inside the release: no leading '/', no '..', no '-' parts, no
    surrounding spaces (refused, not trimmed: ' storage' is not 'storage')."""
    value = value or ""
    if not value and allow_root:
        return "."
    if len(value) > MAX_PATH_LENGTH:
        raise ValidationError(f"The {what} is longer than {MAX_PATH_LENGTH} characters.")
    if not value or value.startswith("/") or not _PATH_CHARS.fullmatch(value):
        raise ValidationError(
            f"The {what} must be relative, using letters, digits and . _ - @ + / (no spaces)."
        )
    parts = value.split("/")
    if ".." in parts or any(part.startswith("-") for part in parts):
        raise ValidationError(f"The {what} may not contain '..' or parts starting with '-'.")
    path = posixpath.normpath(value)
    if path == "." and not allow_root:
        raise ValidationError(f"The {what} must name something inside the release.")
    return path


def clean_shared_paths(dirs: Iterable[str], files: Iterable[str]) -> tuple[list[str], list[str]]:
    """Normalize shared directories and files; refuse duplicates and nesting (`a` and `a/b`)."""
    dirs, files = list(dirs), list(files)
    if len(dirs) + len(files) > MAX_SHARED_PATHS:
        raise ValidationError(f"Share at most {MAX_SHARED_PATHS} paths.")
    if not all(isinstance(path, str) for path in dirs + files):
        raise ValidationError("Shared paths must be text.")
    clean_dirs = [clean_relative_path(d, what="shared directory") for d in dirs if d]
    clean_files = [clean_relative_path(f, what="shared file") for f in files if f]
    every = sorted(clean_dirs + clean_files)
    for first, second in zip(every, every[1:], strict=False):
        if first == second or second.startswith(first + "/"):
            raise ValidationError(f"Shared paths overlap: {first} and {second}.")
    return clean_dirs, clean_files


def clean_env_name(name: str) -> str:
    """An environment variable name that cannot change how shells or linkers behave."""
    if not isinstance(name, str) or len(name) > MAX_ENV_NAME or not _ENV_NAME.fullmatch(name):
        raise ValidationError(
            f"{str(name)[:MAX_ENV_NAME]!r} is not a valid variable name "
            f"([A-Za-z_][A-Za-z0-9_]*, at most {MAX_ENV_NAME} characters)."
        )
    upper = name.upper()
    if upper in DANGEROUS_ENV_NAMES or upper.startswith(DANGEROUS_ENV_PREFIXES):
        raise ValidationError(f"{name} changes how programs run on the server and is not allowed.")
    return name


def clean_environment(env: Mapping[str, str]) -> dict[str, str]:
    """Validate names and values; a value may not contain a newline (it would add a variable)."""
    if len(env) > MAX_ENV_VARIABLES:
        raise ValidationError(f"Set at most {MAX_ENV_VARIABLES} environment variables.")
    cleaned: dict[str, str] = {}
    for name, value in env.items():
        clean_env_name(name)
        if not isinstance(value, str) or any(ch in value for ch in "\r\n\0"):
            raise ValidationError(f"The value of {name} may not contain line breaks or NUL.")
        if len(value) > MAX_ENV_VALUE:
            raise ValidationError(f"The value of {name} is longer than {MAX_ENV_VALUE} characters.")
        cleaned[name] = value
    return cleaned


def clean_secret_env_names(names: Iterable[str]) -> list[str]:
    """Names of variables the user marked secret: valid names, each once, bounded in number."""
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise ValidationError("Give the secret variables as a list of names.")
    cleaned = list(dict.fromkeys(str(name).strip() for name in names if str(name).strip()))
    if len(cleaned) > MAX_ENV_VARIABLES:
        raise ValidationError(f"Mark at most {MAX_ENV_VARIABLES} variables as secret.")
    for name in cleaned:
        if not _ENV_NAME.fullmatch(name) or len(name) > MAX_ENV_NAME:
            raise ValidationError(f"{name[:MAX_ENV_NAME]!r} is not a valid variable name.")
    return cleaned


def parse_env_text(text: str) -> dict[str, str]:
    """Parse `NAME=value` lines (blank lines and `#` comments ignored) into a dict."""
    env: dict[str, str] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise ValidationError(f"Line {number}: expected NAME=value.")
        name = name.strip()
        if name in env:
            raise ValidationError(f"Line {number}: {name} is set twice.")
        env[name] = value
    return clean_environment(env)


def clean_releases_to_keep(value: int) -> int:
    if not isinstance(value, int) or not 1 <= value <= 50:
        raise ValidationError("Keep between 1 and 50 releases.")
    return value


def clean_reload_command(argv: Iterable[str]) -> list[str]:
    """An argv list (never shell text): non-empty, no control characters, no leading '-'."""
    items = [item for item in argv]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise ValidationError("The reload command needs at least a program name.")
    if len(items) > MAX_RELOAD_ARGS or any(len(item) > MAX_RELOAD_ARG for item in items):
        raise ValidationError(
            f"The reload command may have {MAX_RELOAD_ARGS} arguments of at most "
            f"{MAX_RELOAD_ARG} characters."
        )
    if items[0].startswith("-") or any(_has_control(item) for item in items):
        raise ValidationError("The reload command contains characters that are not allowed.")
    return items


def _has_control(value: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in value)


def clean_build_commands(commands: Iterable[str]) -> list[str]:
    """Extra build commands: each one line of shell (run as `bash -eo pipefail -c`)."""
    cleaned = [c.strip() for c in commands if c.strip()]
    if any("\0" in c for c in cleaned):
        raise ValidationError("Build commands may not contain NUL bytes.")
    if len(cleaned) > MAX_BUILD_COMMANDS:
        raise ValidationError(f"Add at most {MAX_BUILD_COMMANDS} build commands.")
    if any(len(c) > MAX_BUILD_COMMAND for c in cleaned):
        raise ValidationError(f"A build command may be at most {MAX_BUILD_COMMAND} characters.")
    return cleaned


def clean_deploy_script(script: str) -> str:
    """The deploy script (bash): bounded, and without NUL (it travels as one argv element)."""
    if len(script or "") > MAX_DEPLOY_SCRIPT:
        raise ValidationError(f"The deploy script may be at most {MAX_DEPLOY_SCRIPT} characters.")
    if "\0" in (script or ""):
        raise ValidationError("The deploy script may not contain NUL bytes.")
    return script or ""


def clean_known_hosts(text: str) -> str:
    """known_hosts lines (`host[,host] keytype base64`); each key must parse."""
    lines = []
    if len((text or "").splitlines()) > MAX_KNOWN_HOSTS_LINES:
        raise ValidationError(f"Give at most {MAX_KNOWN_HOSTS_LINES} known_hosts lines.")
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) < 3 or fields[0].startswith(("-", "@")):
            raise ValidationError(f"Line {number}: expected 'host keytype key'.")
        try:
            asyncssh.import_public_key(f"{fields[1]} {fields[2]}")
        except (asyncssh.KeyImportError, ValueError):
            raise ValidationError(f"Line {number}: the host key cannot be read.") from None
        lines.append(" ".join(fields[:3]))
    return "\n".join(lines)


# A site's workers (sites/models.py Worker): names supervisor and systemd accept as they are.
WORKER_NAME_MAX = 40
WORKER_NAME = RegexValidator(
    r"^[a-z][a-z0-9-]{0,39}\Z", "Lower-case letters, digits and -, starting with a letter."
)
WORKER_COMMAND_MAX = 500
WORKER_PROCESSES_MAX = 32
WORKER_STOP_WAIT_MAX = 600
# The port an Octane server listens on (127.0.0.1): an unprivileged one.
OCTANE_PORT_MIN, OCTANE_PORT_MAX = 1024, 65535
MAX_WORKERS = 20


def clean_worker_command(command: str, *, required: bool = True) -> str:
    """One line naming a program and its arguments (run without a shell: quotes split words,
    nothing else is special); bounded."""
    command = (command or "").strip()
    if not command:
        if required:
            raise ValidationError("Enter the command, e.g. php artisan queue:work --sleep=3.")
        return ""
    if len(command) > WORKER_COMMAND_MAX:
        raise ValidationError(f"A command may be at most {WORKER_COMMAND_MAX} characters.")
    if any(ord(c) < 32 or ord(c) == 127 for c in command):
        raise ValidationError("One line, without control characters.")
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise ValidationError(f"Cannot split the command into words: {exc}.") from None
    if not words or words[0].startswith("-"):
        raise ValidationError("Start with the program to run.")
    return command
