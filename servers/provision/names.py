"""Which unix user a site runs as and where it may live (checked here and again on the server)."""

from __future__ import annotations

import posixpath
import re

# useradd's own rule (Debian's NAME_REGEX), kept to 32 characters (utmp's limit).
USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\Z")
# Names a site must never take over: the system's own accounts and the web server's.
RESERVED_USERS = frozenset(
    {
        "root",
        "daemon",
        "bin",
        "sys",
        "sync",
        "games",
        "man",
        "lp",
        "mail",
        "news",
        "uucp",
        "proxy",
        "www-data",
        "backup",
        "list",
        "irc",
        "nobody",
        "sshd",
        "systemd-network",
        "messagebus",
        "postgres",
        "redis",
        "nginx",
        "admin",
        "deploy",
        "ubuntu",
        "debian",
    }
)
PREFIX = "site-"


class ProvisionError(ValueError):
    """A setting provisioning refuses before it touches a server; the message says why."""


def slugify(name: str) -> str:
    """Lower-case ASCII letters, digits and single hyphens: 'My App!' -> 'my-app'."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9]+", "-", name.lower())).strip("-")


def site_user_name(site_name: str) -> str:
    """The unix user of a site: 'site-' + its slug, cut to 32 characters, validated."""
    slug = slugify(site_name)
    if not slug:
        raise ProvisionError(f"the site name {site_name!r} gives no usable user name")
    return check_user_name((PREFIX + slug)[:32].rstrip("-"))


def check_user_name(name: str) -> str:
    """`name` if useradd accepts it and it is not a system account; else ProvisionError."""
    if not USER_NAME.match(name) or name in RESERVED_USERS:
        raise ProvisionError(
            f"{name!r} is not a usable site user name (a-z, 0-9, _ and -, "
            "at most 32 characters, not a system account)"
        )
    return name


def allowed_roots(user: str) -> tuple[str, ...]:
    """Where a provisioned site may live: its user's home or /var/www."""
    return (f"/home/{user}", "/var/www")


def check_deploy_path(deploy_path: str, user: str) -> str:
    """The normalised deploy path, one level or more below an allowed root; else ProvisionError."""
    path = posixpath.normpath(deploy_path)
    if not posixpath.isabs(deploy_path) or any(p.startswith(".") for p in path.split("/")[1:]):
        raise ProvisionError(f"deploy path {deploy_path!r} must be absolute, no hidden parts")
    if not any(path.startswith(root + "/") for root in allowed_roots(user)):
        raise ProvisionError(
            f"deploy path {deploy_path!r} must lie under "
            + " or ".join(allowed_roots(user))
            + " to be provisioned"
        )
    return path
