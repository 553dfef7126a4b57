"""Turning a byte stream into output lines, split on `\\n`, `\\r` and `\\r\\n`."""

from __future__ import annotations

from dataclasses import dataclass

# A line longer than this is delivered in pieces, so a command that prints megabytes
# without a newline cannot make us buffer all of it.
MAX_LINE_BYTES = 64 * 1024


@dataclass(frozen=True)
class OutputLine:
    """One line of remote output: `stream` is 'out' or 'err', `ts` is time.time() on receipt."""

    stream: str
    text: str
    ts: float


class LineSplitter:
    """Incremental splitter: feed it chunks, get complete lines (bytes, without breaks).

    `\\r` counts as a line break because git and composer redraw progress with it;
    `\\r\\n` is one break even when a chunk boundary falls between the two bytes.
    """

    def __init__(self, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self._partial = bytearray()
        self._after_cr = False
        self._max = max_line_bytes

    def feed(self, data: bytes) -> list[bytes]:
        """Consume `data` and return the lines it completed."""
        if not data:
            return []
        if self._after_cr and data[:1] == b"\n":
            data = data[1:]
        self._after_cr = data.endswith(b"\r")
        lines = []
        for piece in data.splitlines(keepends=True):
            body = piece.rstrip(b"\r\n")
            self._partial += body
            if len(body) < len(piece):  # the piece ended with a line break
                lines.extend(self._take_overlong())
                lines.append(bytes(self._partial))
                self._partial.clear()
        lines.extend(self._take_overlong())
        return lines

    def flush(self) -> list[bytes]:
        """Return the unterminated last line, if any (call at end of stream)."""
        rest = bytes(self._partial)
        self._partial.clear()
        return [rest] if rest else []

    def _take_overlong(self) -> list[bytes]:
        """Cut pieces of at most max bytes off the front while the partial line is longer."""
        pieces = []
        while len(self._partial) > self._max:
            cut = self._max
            # Back up to a UTF-8 character boundary so a split never invents a U+FFFD.
            while cut > self._max - 4 and self._partial[cut] & 0xC0 == 0x80:
                cut -= 1
            pieces.append(bytes(self._partial[:cut]))
            del self._partial[:cut]
        return pieces


def decode(line: bytes) -> str:
    """Decode one line as UTF-8; invalid bytes become U+FFFD instead of failing."""
    return line.decode("utf-8", errors="replace")
