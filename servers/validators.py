"""Validation of server connection fields, shared by the form, the services and (later) the API.

These values end up as arguments of an SSH connection, so they are checked strictly: a host
must be an IP address or an RFC 1123 host name, never something an ssh client could read as an
option (`-oProxyCommand=…`) or a shell could interpret (`1.2.3.4; id`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError

HOST_MESSAGE = (
    "Enter an IP address or a host name (letters, digits, hyphens and dots, "
    "e.g. web-1.example.com)."
)
PORT_MESSAGE = "Enter a port number between 1 and 65535."
USER_MESSAGE = (
    "Enter a Unix user name: lowercase letters, digits, '_' or '-', starting with a "
    "letter or '_', at most 32 characters."
)
NAME_MESSAGE = "Enter a name of at most 100 printable characters."
ROOTS_MESSAGE = (
    "List at most 10 directories sites may live under: '~' (the SSH user's home) or absolute "
    "paths of letters, digits and . _ - @ + /, not / itself, no '..' and no hidden directory."
)
MAX_DEPLOY_ROOTS = 10
_ROOT_PATH = re.compile(r"/[A-Za-z0-9._/@+-]{1,254}")

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_DIGITS = re.compile(r"[0-9]{1,5}")
MAX_HOSTNAME = 253
MAX_NAME = 100


def clean_host(value: Any) -> str:
    """Return the host as an IP address or lowercase host name; ValidationError otherwise."""
    if not isinstance(value, str) or not value:
        raise ValidationError(HOST_MESSAGE, code="invalid")
    if _is_ip_address(value):
        return value
    hostname = value.lower()
    labels = hostname.split(".")
    if (
        len(hostname) > MAX_HOSTNAME
        or not all(_LABEL.fullmatch(label) for label in labels)
        # A numeric last label means a malformed IP address (999.1.1.1), not a name.
        or labels[-1].isdigit()
    ):
        raise ValidationError(HOST_MESSAGE, code="invalid")
    return hostname


def _is_ip_address(value: str) -> bool:
    # Zone ids ("fe80::1%eth0") are refused: they name a local interface, not a server.
    if "%" in value:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def clean_port(value: Any) -> int:
    """Return the port as an int in 1–65535. Accepts an int or a string of digits only."""
    if isinstance(value, bool):
        raise ValidationError(PORT_MESSAGE, code="invalid")
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValidationError(PORT_MESSAGE, code="invalid")
    return value


def clean_user(value: Any) -> str:
    """Return the SSH user name if it matches `[a-z_][a-z0-9_-]{0,31}`."""
    if not isinstance(value, str) or not _USER.fullmatch(value):
        raise ValidationError(USER_MESSAGE, code="invalid")
    return value


def clean_name(value: Any) -> str:
    """Return the display name, refusing empty, overlong or control-character names."""
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_NAME
        or not value.isprintable()
    ):
        raise ValidationError(NAME_MESSAGE, code="invalid")
    return value.strip()


def clean_deploy_roots(value: Any) -> list[str]:
    """The directories a site's deploy path must lie under on this server (empty: the default)."""
    if isinstance(value, str):
        value = [line.strip() for line in value.splitlines() if line.strip()]
    if not isinstance(value, list | tuple) or len(value) > MAX_DEPLOY_ROOTS:
        raise ValidationError(ROOTS_MESSAGE, code="invalid")
    roots = []
    for root in value:
        if root == "~":
            roots.append(root)
            continue
        parts = root.split("/") if isinstance(root, str) else [".."]
        if (not isinstance(root, str) or not _ROOT_PATH.fullmatch(root)
                or any(part.startswith(".") or part.startswith("-") for part in parts)):
            raise ValidationError(ROOTS_MESSAGE, code="invalid")
        roots.append("/" + "/".join(part for part in parts if part))
    return list(dict.fromkeys(roots))


def clean_supervisor_config(value: Any) -> str:
    """An absolute path to a supervisord.conf (its conf.d/ beside it holds the site programs)."""
    path = value.strip() if isinstance(value, str) else ""
    parts = path.split("/")
    if (not path.startswith("/") or len(path) > 255 or not _ROOT_PATH.fullmatch(path)
            or any(part in (".", "..") or part.startswith("-") for part in parts)):
        raise ValidationError("An absolute path of letters, digits and . _ - @ + /, such as "
                              "/etc/supervisor/supervisord.conf.", code="invalid")
    return path


CLEANERS = {"name": clean_name, "host": clean_host, "port": clean_port, "user": clean_user,
            "deploy_roots": clean_deploy_roots, "supervisor_config": clean_supervisor_config}


def clean_server_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Clean every server field present in `data`; one ValidationError listing all bad fields."""
    cleaned, errors = {}, {}
    for field, value in data.items():
        cleaner = CLEANERS.get(field)
        if cleaner is None:
            raise ValueError(f"not a server field: {field!r}")
        try:
            cleaned[field] = cleaner(value)
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned
