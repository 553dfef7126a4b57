"""The stack facts a connection check stores per server, so pages can judge sites without SSH.

`probe_stack(conn)` runs the stack probe (servers/stack/probe.py) on the check's connection and
returns plain JSON; `stack_from_json` turns the stored JSON back into the `StackFacts` that
`judge_site` reads. A probe that fails becomes a note: it never fails the connection check.
"""

from __future__ import annotations

import asyncio
from typing import Any

from servers.ssh import RemoteConnection
from servers.stack.check import Directive, NginxServer
from servers.stack.probe import FpmMaster, StackFacts, collect

# The probe runs a handful of commands (ps, nginx -T, php-fpm -tt, php-fpm -i per master);
# a host that hangs on one of them must not hold the check forever.
STACK_PROBE_TIMEOUT = 60.0
NO_FPM_MASTER_NOTE = (
    "No running PHP-FPM master found: judged the installed default configuration instead."
)
NO_NGINX_SERVER_NOTE = "No nginx server block found."


async def probe_stack(conn: RemoteConnection) -> dict[str, Any]:
    """The stack facts of the connected host as JSON; a failure is recorded as a note."""
    try:
        async with asyncio.timeout(STACK_PROBE_TIMEOUT):
            facts = await collect(conn)
    except TimeoutError:
        return _only_note(f"Stack check timed out after {STACK_PROBE_TIMEOUT:g}s.")
    # Whatever goes wrong in the probe (SSH errors, unexpected output) is a note for the page:
    # the connection itself worked, and its status and host key must still be stored.
    except Exception as exc:  # noqa: BLE001
        return _only_note(f"Stack check failed: {exc}")
    return stack_to_json(facts)


def _only_note(note: str) -> dict[str, Any]:
    return {"nginx": [], "fpm": [], "notes": [note]}


def stack_to_json(facts: StackFacts) -> dict[str, Any]:
    """`StackFacts` as JSON for `Server.stack`, plus notes on what could not be seen live."""
    notes = list(facts.notes)
    if facts.fpm and all(master.conf is None for master in facts.fpm):
        notes.append(NO_FPM_MASTER_NOTE)
    if not facts.nginx:
        notes.append(NO_NGINX_SERVER_NOTE)
    return {
        "nginx": [_server_to_json(server) for server in facts.nginx],
        "fpm": [vars(master).copy() for master in facts.fpm],
        # Several masters can fail the same way; one line each is enough.
        "notes": list(dict.fromkeys(notes)),
    }


def stack_from_json(data: dict[str, Any] | None) -> StackFacts | None:
    """The stored facts back as `StackFacts`; None when no stack was ever stored."""
    if not data or not any(data.get(key) for key in ("nginx", "fpm", "notes")):
        return None
    return StackFacts(
        nginx=[_server_from_json(item) for item in data.get("nginx", [])],
        fpm=[FpmMaster(**item) for item in data.get("fpm", [])],
        notes=list(data.get("notes", [])),
    )


def _directive_to_json(directive: Directive | None) -> dict[str, Any] | None:
    if directive is None:
        return None
    return {
        "name": directive.name,
        "args": list(directive.args),
        "file": directive.file,
        "line": directive.line,
    }


def _directive_from_json(data: dict[str, Any] | None) -> Directive | None:
    if data is None:
        return None
    return Directive(data["name"], tuple(data["args"]), data["file"], data["line"])


def _server_to_json(server: NginxServer) -> dict[str, Any]:
    return {
        "file": server.file,
        "line": server.line,
        "root": _directive_to_json(server.root),
        "names": list(server.names),
        "fastcgi_pass": server.fastcgi_pass,
        "fastcgi_params": {
            name: _directive_to_json(directive) for name, directive in server.fastcgi_params.items()
        },
    }


def _server_from_json(data: dict[str, Any]) -> NginxServer:
    return NginxServer(
        file=data["file"],
        line=data["line"],
        root=_directive_from_json(data.get("root")),
        names=tuple(data.get("names", ())),
        fastcgi_pass=data.get("fastcgi_pass", ""),
        fastcgi_params={
            name: _directive_from_json(item)
            for name, item in data.get("fastcgi_params", {}).items()
        },
    )
