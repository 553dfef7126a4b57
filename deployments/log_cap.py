"""Which lines of one deployment's log are kept: a byte budget that keeps the head and the tails.

A deployment may print without end (a build in a loop, a verbose test suite); its stored log
must not. The first half of the budget is kept as it comes and streamed live. Past it, each
server's lines wait in a ring of bounded size: the oldest fall out and are counted. At every
step boundary (and at the end of the run) the ring is released: a marker line
"… N lines (X MB) omitted …", then the step's last lines, which are the ones that explain a
failure. Each release may use half of what is left of the budget (at least MIN_TAIL_BYTES), so
later steps always keep their last lines too, and the whole log stays within the budget plus
MIN_TAIL_BYTES per released step.

Nothing here numbers lines: the sink gives `seq` to what comes out, so stored seqs stay gapless
and the marker line itself says what is missing. Pure Python, no Django.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

MIN_TAIL_BYTES = 64 * 1024
INFO = "info"

Entry = tuple[str, str, str, float]  # server, stream, text, unix ts


def _size(entry: Entry) -> int:
    text = entry[2]
    if text.isascii():  # most lines, and one byte a character: no need to encode them
        return len(text) + 1
    return len(text.encode("utf-8", "replace")) + 1  # the text and its newline


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


@dataclass
class _Tail:
    """One server's last lines, within `budget` bytes; what falls out is counted."""

    budget: int
    lines: deque = field(default_factory=deque)
    size: int = 0
    omitted_lines: int = 0
    omitted_bytes: int = 0
    last_omitted_ts: float = 0.0

    def push(self, entry: Entry) -> None:
        self.lines.append(entry)
        self.size += _size(entry)
        while self.size > self.budget and len(self.lines) > 1:
            dropped = self.lines.popleft()
            self.size -= _size(dropped)
            self.omitted_lines += 1
            self.omitted_bytes += _size(dropped)
            self.last_omitted_ts = dropped[3]


class LogCap:
    """The keep-or-hold decision for every line of one deployment (see the module docstring)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.head_bytes = max_bytes // 2
        self.kept_bytes = 0
        self.overflowing = False
        self._tails: dict[str, _Tail] = {}
        self._reserved = 0  # the budgets of the tails held right now (servers run in parallel)

    def admit(self, entry: Entry) -> list[Entry]:
        """The entries to store now for this new line: itself, nothing (held in its server's
        tail), or, for the first line past the head, a notice saying what happens next."""
        size = _size(entry)
        if not self.overflowing and self.kept_bytes + size <= self.head_bytes:
            self.kept_bytes += size  # _kept's sum for one entry, run for every line
            return [entry]
        server, _, _, ts = entry
        out: list[Entry] = []
        if not self.overflowing:
            self.overflowing = True
            out = self._kept([(server, INFO, self._notice(), ts)])
        self._tail(server).push(entry)
        return out

    def release(self, server: str | None = None) -> list[Entry]:
        """At a step boundary of `server` (None: every server, at the end of the run): the
        marker for what was dropped, then the held tail lines, in order."""
        servers = [server] if server is not None else list(self._tails)
        out: list[Entry] = []
        for name in servers:
            tail = self._tails.pop(name, None)
            if tail is None:
                continue
            self._reserved -= tail.budget
            if tail.omitted_lines:
                marker = (f"… {tail.omitted_lines} lines ({_megabytes(tail.omitted_bytes)}) "
                          "omitted …")
                out.append((name, INFO, marker, tail.last_omitted_ts))
            out.extend(tail.lines)
        return self._kept(out)

    def _tail(self, server: str) -> _Tail:
        tail = self._tails.get(server)
        if tail is None:
            left = max(self.max_bytes - self.kept_bytes - self._reserved, 0)
            tail = self._tails[server] = _Tail(budget=max(left // 2, MIN_TAIL_BYTES))
            self._reserved += tail.budget
        return tail

    def _kept(self, entries: list[Entry]) -> list[Entry]:
        self.kept_bytes += sum(map(_size, entries))
        return entries

    def _notice(self) -> str:
        return (f"… this log passed {_megabytes(self.head_bytes)} of its "
                f"{_megabytes(self.max_bytes)} limit: from here each step keeps its last lines, "
                "shown when the step ends …")
