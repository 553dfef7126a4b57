"""The environment as data: what changed between two versions (names only) and reading a pasted
.env file. Pure functions: the services (sites/services.py) and selectors use them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from sites.validators import MAX_ENV_VALUE, MAX_ENV_VARIABLES, clean_environment

# A pasted .env: every variable at its longest, with room for comments.
MAX_DOTENV_CHARS = MAX_ENV_VARIABLES * (MAX_ENV_VALUE + 200)


@dataclass(frozen=True)
class EnvChanges:
    """Names added, removed and changed between two environments (never values)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.added) + len(self.removed) + len(self.changed)

    def __bool__(self) -> bool:
        return self.count > 0

    def as_dict(self) -> dict[str, list[str]]:
        """For the audit log: names only."""
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


def env_changes(old: Mapping[str, str], new: Mapping[str, str]) -> EnvChanges:
    """What `new` adds, removes and changes against `old`, by name, sorted."""
    return EnvChanges(
        added=sorted(set(new) - set(old)),
        removed=sorted(set(old) - set(new)),
        changed=sorted(name for name in set(old) & set(new) if old[name] != new[name]),
    )


def parse_dotenv(text: str) -> dict[str, str]:
    """A pasted .env file as a dict: `NAME=value` lines, `export ` prefixes, blank lines and
    `#` comments allowed; "double" quotes (with \\" \\\\ \\$ escapes) and 'single' quotes
    (literal) removed. Raises ValidationError naming the line for anything else."""
    if len(text or "") > MAX_DOTENV_CHARS:
        raise ValidationError(f"The pasted file is longer than {MAX_DOTENV_CHARS} characters.")
    env: dict[str, str] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").lstrip()
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise ValidationError(f"Line {number}: expected NAME=value.")
        name = name.strip()
        if name in env:
            raise ValidationError(f"Line {number}: {name} is set twice.")
        env[name] = _unquoted(value.strip(), number)
    try:
        return clean_environment(env)
    except ValidationError as exc:
        raise ValidationError(exc.messages) from None


def _unquoted(value: str, number: int) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _unescape(value[1:-1])
    if value[:1] in ("'", '"'):
        raise ValidationError(f"Line {number}: the quote is not closed.")
    return value.split(" #", 1)[0].rstrip()  # an unquoted value ends at a comment


def _unescape(inner: str) -> str:
    out, escaped = [], False
    for ch in inner:
        if escaped:
            out.append(ch if ch in '"\\$' else "\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            out.append(ch)
    return "".join(out) + ("\\" if escaped else "")
