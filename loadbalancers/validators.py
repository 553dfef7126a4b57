"""Validation of load-balancer settings, shared by the forms, the API and the services.

Values here end up in nginx config text and in remote argv, so they are checked strictly and
each refusal says what is expected. `clean_backends` holds the rules nginx would otherwise
enforce only at `nginx -t` time (no `backup` with ip_hash) and the ones it never would (the
backends are servers of the site, a primary is left to serve).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from loadbalancers.nginx import IP_HASH, METHOD_DIRECTIVES
from servers.models import Server
from servers.validators import clean_port

DIR_MESSAGE = (
    "Enter an absolute directory path of letters, digits, '_', '-', '.' and '/' "
    "(no '..'), at most 300 characters."
)
COMMAND_MESSAGE = (
    "Enter a command as a list of 1 to 20 arguments, each a non-empty string of at most "
    "300 characters."
)
SERVER_NAME_MESSAGE = (
    "Enter host names separated by spaces (letters, digits, '-', '.', '*', '_'), or leave it "
    "empty."
)
METHOD_MESSAGE = "Choose round_robin, least_conn or ip_hash."
WEIGHT_MESSAGE = "Enter a weight between 1 and 100."
NO_BACKENDS = "Choose at least one backend server."
NO_PRIMARY = "At least one backend must be enabled (not drained) and not a backup."
BACKUP_WITH_IP_HASH = (
    "A backup server cannot be used with IP hash (nginx refuses `backup` with `ip_hash`): "
    "choose round robin or least connections, or clear the backup flag."
)
NOT_SITE_SERVER = "Server {name} does not run this site: add it to the site first."
UNKNOWN_SERVER = "No such server in this organization: {ref}."
DUPLICATE_BACKEND = "Server {name} is listed twice."
MAX_BACKENDS = 100

_DIR = re.compile(r"/[A-Za-z0-9_./-]{0,299}")
_SERVER_NAME = re.compile(r"[A-Za-z0-9*_][A-Za-z0-9.*_-]{0,252}")


@dataclass(frozen=True)
class BackendSpec:
    """A cleaned backend: which server, and how it takes part."""

    server: Server
    weight: int = 1
    backup: bool = False
    drained: bool = False


def clean_dir(value: Any) -> str:
    if not isinstance(value, str) or not _DIR.fullmatch(value) or ".." in value.split("/"):
        raise ValidationError(DIR_MESSAGE, code="invalid")
    return value.rstrip("/") or "/"


def clean_command(value: Any) -> list[str]:
    """An argv list (run over SSH, quoted by servers/shell.py): never a shell string."""
    if (
        not isinstance(value, list | tuple)
        or not 1 <= len(value) <= 20
        or not all(isinstance(item, str) and 0 < len(item) <= 300 for item in value)
        or any("\0" in item for item in value)
    ):
        raise ValidationError(COMMAND_MESSAGE, code="invalid")
    return list(value)


def clean_server_name(value: Any) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise ValidationError(SERVER_NAME_MESSAGE, code="invalid")
    names = value.split()
    if not names or len(names) > 20 or not all(_SERVER_NAME.fullmatch(n) for n in names):
        raise ValidationError(SERVER_NAME_MESSAGE, code="invalid")
    return " ".join(names)


def clean_method(value: Any) -> str:
    if value not in METHOD_DIRECTIVES:
        raise ValidationError(METHOD_MESSAGE, code="invalid")
    return value


def clean_weight(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise ValidationError(WEIGHT_MESSAGE, code="invalid")
    return value


def clean_ports(data: Mapping[str, Any]) -> dict[str, int]:
    errors, ports = {}, {}
    for field in ("listen_port", "backend_port"):
        if field in data:
            try:
                ports[field] = clean_port(data[field])
            except ValidationError as exc:
                errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    return ports


def clean_backends(
    *, method: str, rows: Iterable[Mapping[str, Any]], org_servers: Mapping[int, Server],
    site_server_ids: set[int],
) -> list[BackendSpec]:
    """Resolve and check the backend rows ({"server": id, "weight", "backup", "drained"}).

    `org_servers` are the organization's servers by id: any other id reads as unknown, so
    another organization's server is refused like a missing one.
    """
    specs: list[BackendSpec] = []
    errors: list[str] = []
    rows = list(rows)
    if len(rows) > MAX_BACKENDS:
        raise ValidationError({"backends": [f"At most {MAX_BACKENDS} backends."]})
    for row in rows:
        spec = _backend(row, org_servers, site_server_ids, errors)
        if spec is not None:
            if any(s.server.pk == spec.server.pk for s in specs):
                errors.append(DUPLICATE_BACKEND.format(name=spec.server.name))
            specs.append(spec)
    errors.extend(_set_errors(method, specs, rows))
    if errors:
        raise ValidationError({"backends": errors})
    return specs


def _backend(
    row: Mapping[str, Any], org_servers: Mapping[int, Server], site_server_ids: set[int],
    errors: list[str],
) -> BackendSpec | None:
    ref = row.get("server")
    server = org_servers.get(ref) if isinstance(ref, int) and not isinstance(ref, bool) else None
    if server is None:
        errors.append(UNKNOWN_SERVER.format(ref=str(ref)[:40]))
        return None
    if server.pk not in site_server_ids:
        errors.append(NOT_SITE_SERVER.format(name=server.name))
        return None
    try:
        weight = clean_weight(row.get("weight", 1))
    except ValidationError:
        errors.append(f"{server.name}: {WEIGHT_MESSAGE}")
        return None
    return BackendSpec(
        server=server, weight=weight, backup=bool(row.get("backup")),
        drained=bool(row.get("drained")),
    )


def _set_errors(method: str, specs: list[BackendSpec], rows: list) -> list[str]:
    if not rows:
        return [NO_BACKENDS]
    errors = []
    if method == IP_HASH and any(spec.backup for spec in specs):
        errors.append(BACKUP_WITH_IP_HASH)
    if specs and not any(not spec.backup and not spec.drained for spec in specs):
        errors.append(NO_PRIMARY)
    return errors


# Rolling deploy options of a balanced site: (lowest, highest) of each (models.BalancedSite).
ROLLING_BOUNDS = {
    "batch_size": (1, 50),
    "drain_seconds": (0, 300),
    "canary_weight": (1, 100),
    "canary_seconds": (1, 3600),
    "canary_max_error_percent": (0, 100),
}
ROLLING_FIELDS = (*ROLLING_BOUNDS, "canary")


def clean_rolling(data: Mapping[str, Any]) -> dict[str, Any]:
    """The rolling options present in `data`, each checked against its bounds (field errors)."""
    errors, cleaned = {}, {}
    for field, (low, high) in ROLLING_BOUNDS.items():
        if field not in data:
            continue
        value = data[field]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[field] = [f"Enter a whole number from {low} to {high}."]
        else:
            cleaned[field] = value
    if "canary" in data:
        if not isinstance(data["canary"], bool):
            errors["canary"] = ["Enter true or false."]
        else:
            cleaned["canary"] = data["canary"]
    unknown = set(data) - set(ROLLING_FIELDS)
    if unknown:
        errors["rolling"] = [f"Unknown rolling options: {', '.join(sorted(unknown))}."]
    if errors:
        raise ValidationError(errors)
    return cleaned
