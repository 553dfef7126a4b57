"""What a connection check does on the server: log in, then run a few harmless probes.

No Django here: the service gathers the target and keys, calls `check_connection`, and stores
the `CheckOutcome`. Every probe is a fixed argv list; nothing from the user reaches a command.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from servers.provision.facts import detect
from servers.provision.steps import root_prefix
from servers.ssh import (
    AuthFailed,
    HostKeyChanged,
    OutputLine,
    RemoteConnection,
    SSHError,
    SSHTarget,
    connect,
)
from servers.stack.store import STACK_PROBE_TIMEOUT, probe_stack

PROBE_TIMEOUT = 20.0
MAX_FACT_LENGTH = 120

# php-fpm is installed under a versioned name in /usr/sbin, often not on a login PATH. The glob
# needs a shell; the script is a constant and takes no input, so nothing can be injected.
_PHP_FPM_GLOB = 'for b in /usr/sbin/php-fpm*; do [ -x "$b" ] && exec "$b" -v; done; exit 127'

# fact name -> (candidate argv lists tried in order, pattern whose group 1 is the version)
PROBES: dict[str, tuple[tuple[tuple[str, ...], ...], str]] = {
    "git": ((("git", "--version"),), r"git version (\S+)"),
    "php": ((("php", "-v"),), r"^PHP (\S+)"),
    "php_fpm": (
        (("php-fpm8.2", "-v"), ("php-fpm", "-v"), ("sh", "-c", _PHP_FPM_GLOB)),
        r"^PHP (\S+)",
    ),
    "nginx": ((("nginx", "-v"),), r"nginx/(\S+)"),
    "composer": ((("composer", "--no-ansi", "--version"),), r"Composer (?:version )?(\d\S*)"),
    "node": ((("node", "--version"),), r"^v?(\d+\.\d+\S*)"),
}

# How the facts are labelled on the server page, in display order.
FACT_LABELS = (
    ("os", "Operating system"),
    ("git", "git"),
    ("php", "PHP (CLI)"),
    ("php_fpm", "PHP-FPM"),
    ("nginx", "nginx"),
    ("composer", "Composer"),
    ("node", "Node.js"),
)


@dataclass(frozen=True)
class CheckOutcome:
    """The result of one check. `key_index` says which of the given key sets logged in."""

    status: str
    error: str = ""
    host_key: str = ""
    host_key_fingerprint: str = ""
    presented_host_key: str = ""
    facts: dict[str, str | None] = field(default_factory=dict)
    key_index: int | None = None
    # What the stack check judges sites by (servers/stack/store.py), JSON; empty unless connected.
    stack: dict = field(default_factory=dict)


async def check_connection(target: SSHTarget, key_sets: Sequence[tuple[str, ...]]) -> CheckOutcome:
    """Log in with each key set in turn (first that works wins), then gather facts and the stack.

    `target.client_keys` is ignored; each entry of `key_sets` replaces it. Trying the active
    key alone first is how we learn whether a server already accepts it after a rotation.
    """
    failure: SSHError = AuthFailed(f"authentication failed for {target.label}")
    for index, keys in enumerate(key_sets):
        try:
            conn = await connect(dataclasses.replace(target, client_keys=keys))
        except AuthFailed as exc:
            failure = exc
            continue
        except SSHError as exc:
            return _failed(exc)
        async with conn:
            facts = await gather_facts(conn)
            stack = await probe_stack(conn)
            stack["php"] = await probe_php(conn, root_prefix(target.username))
        return CheckOutcome(
            status="connected",
            host_key=conn.host_key,
            host_key_fingerprint=conn.host_key_fingerprint,
            facts=facts,
            key_index=index,
            stack=stack,
        )
    return _failed(failure)


async def probe_php(conn: RemoteConnection, as_root: tuple[str, ...] = ()) -> dict:
    """PHP as provisioning sees it (versions, FPM service, extensions) for the server page,
    read as root (`as_root`: sudo -n for another user); a failure is an empty answer, never
    a failed check."""
    try:
        async with asyncio.timeout(STACK_PROBE_TIMEOUT):
            return (await detect(conn, as_root=as_root)).to_json()
    except Exception:  # noqa: BLE001 — the connection worked; only this reading did not
        return {}


def _failed(exc: SSHError) -> CheckOutcome:
    if isinstance(exc, HostKeyChanged):
        return CheckOutcome(
            status="host_key_changed", error=str(exc), presented_host_key=exc.presented_key
        )
    if isinstance(exc, AuthFailed):
        return CheckOutcome(status="auth_failed", error=str(exc))
    # Timeouts and other transport failures read as "unreachable" to the user; the message
    # keeps the precise reason.
    return CheckOutcome(status="unreachable", error=str(exc))


async def gather_facts(conn: RemoteConnection) -> dict[str, str | None]:
    """The OS name and the version of each tool found (None when missing)."""
    facts: dict[str, str | None] = {"os": os_name(await _output(conn, ("cat", "/etc/os-release")))}
    for name, (candidates, pattern) in PROBES.items():
        facts[name] = await probe(conn, candidates, pattern)
    return facts


async def probe(
    conn: RemoteConnection, candidates: Sequence[Sequence[str]], pattern: str
) -> str | None:
    """The version the first candidate command that succeeds reports; None if none does."""
    for argv in candidates:
        lines = await _output(conn, argv)
        if lines is not None:
            return version_in(lines, pattern)
    return None


async def _output(conn: RemoteConnection, argv: Sequence[str]) -> list[str] | None:
    """stdout and stderr lines of `argv` (nginx -v writes to stderr), or None if it failed."""
    lines: list[str] = []

    def collect(line: OutputLine) -> None:
        lines.append(line.text)

    try:
        result = await conn.run(list(argv), timeout=PROBE_TIMEOUT, on_line=collect)
    except SSHError:
        return None
    return lines if result.exit_status == 0 else None


def version_in(lines: Sequence[str], pattern: str) -> str | None:
    """The first version `pattern` finds, else the first non-empty line (the tool exists)."""
    regex = re.compile(pattern)
    for line in lines:
        match = regex.search(line.strip())
        if match:
            return match.group(1)[:MAX_FACT_LENGTH]
    first = next((line.strip() for line in lines if line.strip()), "")
    return first[:MAX_FACT_LENGTH] or None


def os_name(lines: Sequence[str] | None) -> str | None:
    """PRETTY_NAME (or NAME) from /etc/os-release lines."""
    if lines is None:
        return None
    values = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("\"'")
    name = values.get("PRETTY_NAME") or values.get("NAME")
    return name[:MAX_FACT_LENGTH] if name else None
