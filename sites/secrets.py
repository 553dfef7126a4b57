"""Which environment values are secrets: the ones deploy logs redact and pages mask.

A value is secret when its variable's name says so (`*_KEY`, `*_SECRET`, `*PASSWORD*`,
`*TOKEN*`, ...), when the user marked the variable secret (Site.secret_env_names), when it
carries a URL password (`postgres://user:pass@host/db`), or when it holds a random-looking run
(16+ base64/hex characters, letters and digits mixed, high entropy). Short and common words
(`file`, `false`, `production`) are never secret: masking them garbles logs and hides nothing.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MASK = "********"
MIN_SECRET_LENGTH = 4
# Name parts (split on "_") that mark a secret, and fragments that do so anywhere in a name.
SECRET_NAME_PARTS = frozenset({
    "KEY", "APIKEY", "SECRET", "SECRETS", "PASS", "PASSWD", "PWD", "PASSPHRASE", "TOKEN",
    "CREDENTIAL", "CREDENTIALS", "PRIVATE", "SALT", "DSN", "SIGNATURE", "CERT", "AUTH",
})
SECRET_NAME_FRAGMENTS = ("PASSWORD", "TOKEN", "SECRET", "APIKEY", "PRIVATEKEY")
COMMON_WORDS = frozenset({
    "true", "false", "null", "none", "nil", "yes", "no", "on", "off", "file", "local",
    "production", "staging", "testing", "development", "debug", "info", "error", "warning",
    "redis", "database", "sync", "array", "cookie", "smtp", "mysql", "pgsql", "sqlite",
    "public", "private", "stack", "single", "daily", "log", "empty", "localhost",
})
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]+:[^\s@/]+@")
# A run of base64/hex characters long enough to be a key or token (16+), and random enough.
_TOKEN_RUN = re.compile(r"[A-Za-z0-9+=]{16,}")
HIGH_ENTROPY_BITS_PER_CHAR = 3.0


@dataclass(frozen=True)
class EnvEntry:
    """One variable as a page or the API shows it: its value only when it is not secret."""

    name: str
    secret: bool
    value: str  # MASK for a secret (or for readers without the "view secrets" capability)


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return bool(set(upper.split("_")) & SECRET_NAME_PARTS) or any(
        fragment in upper for fragment in SECRET_NAME_FRAGMENTS
    )


def looks_random(value: str) -> bool:
    """Holds a key- or token-like run: 16+ base64/hex characters mixing letters and digits,
    with high Shannon entropy. Host names, URLs, paths and words split into short runs."""
    return any(_random_run(run) for run in _TOKEN_RUN.findall(value))


def _random_run(run: str) -> bool:
    if not (any(ch.isdigit() for ch in run) and any(ch.isalpha() for ch in run)):
        return False
    counts = Counter(run)
    entropy = -sum(n / len(run) * math.log2(n / len(run)) for n in counts.values())
    return entropy >= HIGH_ENTROPY_BITS_PER_CHAR


def is_secret(name: str, value: str, marked: Iterable[str] = ()) -> bool:
    """Whether the value of `name` is a secret (see the module docstring)."""
    if len(value) < MIN_SECRET_LENGTH or value.lower() in COMMON_WORDS:
        return False
    return (
        name in set(marked) or is_secret_name(name) or bool(_URL_PASSWORD.search(value))
        or looks_random(value)
    )


def secret_values(env: Mapping[str, str], marked: Iterable[str] = ()) -> list[str]:
    """The values of `env` that are secrets, for the deploy log's redaction."""
    marked = set(marked)
    return [value for name, value in env.items() if is_secret(name, value, marked)]


def env_entries(
    env: Mapping[str, str], marked: Iterable[str] = (), *, show_plain: bool
) -> list[EnvEntry]:
    """`env` for display: secret values masked always, the others only for readers who may
    not see environment values (`show_plain` False)."""
    marked = set(marked)
    entries = []
    for name, value in env.items():
        secret = name in marked or is_secret(name, value, marked)
        shown = value if show_plain and not secret else MASK
        entries.append(EnvEntry(name=name, secret=secret, value=shown))
    return entries
