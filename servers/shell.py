"""The one place where argv lists become shell text.

Every remote command in Deploynix is an argv list. The only code allowed to turn
such a list (plus a working directory and environment) into a string for a
remote shell is this module, and it only ever quotes through `shlex`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def join(argv: Sequence[str]) -> str:
    """Quote `argv` into one shell-safe string (`shlex.join`).

    Raises ValueError for an empty argv, non-str elements and NUL bytes: a shell
    cannot carry a NUL, and silently dropping it would change the argument.
    """
    if isinstance(argv, str | bytes):
        # A bare string would be joined character by character.
        raise ValueError("argv must be a sequence of str, not a single string")
    items = list(argv)
    if not items:
        raise ValueError("argv must not be empty")
    for item in items:
        _check_argument(item)
    return shlex.join(items)


def command_line(
    argv: Sequence[str],
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Render `argv`, run in `cwd` with extra `env`, as shell text.

    Example: ``cd -- '/srv/x' && env -- 'A=1' git fetch``. `cd` failing stops the
    command (``&&``); `env --` keeps a value like ``-i`` from being read as an option.
    """
    text = join(argv)
    if env:
        text = join(["env", "--", *_env_assignments(env)]) + " " + text
    if cwd is not None:
        text = join(["cd", "--", cwd]) + " && " + text
    return text


# Enter a directory, then become the command: `cd` runs as whoever runs the command.
_CD_THEN_EXEC = 'cd -- "$1" || exit; shift; exec "$@"'


def in_directory(cwd: str, argv: Sequence[str]) -> list[str]:
    """`argv` run in `cwd` as argv, for after a user switch (`sudo -u`, `runuser`): the site's
    user may enter its own directories where the login user may not, and the other way round."""
    return ["sh", "-c", _CD_THEN_EXEC, "sh", cwd, *argv]


def env_argv(env: Mapping[str, str]) -> list[str]:
    """`env -- NAME=value ...` as argv (to set variables after a user switch, which resets some)."""
    return ["env", "--", *_env_assignments(env)]


def _env_assignments(env: Mapping[str, str]) -> list[str]:
    """Return NAME=value items, refusing names a shell or `env` would misread."""
    assignments = []
    for name, value in env.items():
        if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
            raise ValueError(f"invalid environment variable name: {name!r}")
        _check_argument(value)
        assignments.append(f"{name}={value}")
    return assignments


def _check_argument(item: object) -> None:
    if not isinstance(item, str):
        raise ValueError(f"shell arguments must be str, got {type(item).__name__}")
    if "\0" in item:
        raise ValueError("shell arguments must not contain NUL bytes")
