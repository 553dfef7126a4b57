"""Putting a generated config live on the balancer: upload, `nginx -t`, reload or restore.

No Django here: `push_config` gets an open pinned connection and plain values, so the service
(loadbalancers/services.py) decides what to record. The remote steps are one script,
loadbalancers/scripts/apply.sh, run with every value as a positional parameter.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from servers.scripts import loader
from servers.ssh import OutputLine, RemoteConnection, SSHError

script = loader("loadbalancers.scripts")
APPLY = script("apply.sh")
# Exit statuses of apply.sh.
REFUSED = 3
RELOAD_FAILED = 4
MAX_OUTPUT_CHARS = 8000

APPLIED = "applied"
REJECTED = "rejected"
FAILED = "failed"


@dataclass(frozen=True)
class PushResult:
    status: str  # APPLIED, REJECTED (nginx -t refused it) or FAILED
    output: str  # what nginx (or the SSH layer) said


def staged_path(conf_path: str) -> str:
    """Beside the target, named so that an `include <dir>/*.conf` never reads it."""
    directory, name = posixpath.split(conf_path)
    return posixpath.join(directory, f".{name}.staged")


def apply_argv(
    conf_path: str, test_command: Sequence[str], reload_command: Sequence[str]
) -> list[str]:
    """The argv running apply.sh: the script is one element, every value its own parameter."""
    return [
        "bash", "-c", APPLY, "bash", conf_path, staged_path(conf_path),
        str(len(test_command)), *test_command, *reload_command,
    ]


async def push_config(
    conn: RemoteConnection,
    *,
    conf_path: str,
    text: str,
    test_command: Sequence[str],
    reload_command: Sequence[str],
    timeout: float,
) -> PushResult:
    """Upload `text` atomically, test it, reload; a refused config leaves the live one alone."""
    lines: list[str] = []

    def collect(line: OutputLine) -> None:
        lines.append(line.text)

    try:
        await conn.upload(staged_path(conf_path), text.encode())
        result = await conn.run(
            apply_argv(conf_path, test_command, reload_command), timeout=timeout, on_line=collect
        )
    except SSHError as exc:
        return PushResult(FAILED, _bounded("\n".join([*lines, str(exc)])))
    output = _bounded("\n".join(lines))
    if result.exit_status == 0:
        return PushResult(APPLIED, output)
    if result.exit_status == REFUSED:
        return PushResult(REJECTED, output)
    return PushResult(FAILED, output or f"apply exited with status {result.exit_status}")


def _bounded(text: str) -> str:
    """The tail of long output (nginx puts the decisive line last)."""
    return text if len(text) <= MAX_OUTPUT_CHARS else "…" + text[-MAX_OUTPUT_CHARS:]
