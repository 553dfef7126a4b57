"""Remote shell scripts kept as `.sh` files in a `scripts/` package beside the code that runs them.

A script is passed whole as the `-c` argument of `sh` or `bash` (one argv element) and receives
its values, constants included, as positional parameters: no shell text is ever built in Python.
`make lint` runs shellcheck over every one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources


@cache
def load(package: str, name: str) -> str:
    """The text of `name` in the package `package` (a `scripts/` directory with __init__.py)."""
    return (resources.files(package) / name).read_text()


def loader(package: str) -> Callable[[str], str]:
    """`script(name)` for the scripts of one package (its module's `__name__`)."""

    def script(name: str) -> str:
        return load(package, name)

    return script
