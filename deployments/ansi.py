"""ANSI colour codes in deploy output → (CSS classes, text) segments, and safe HTML from them.

Build tools (composer, npm, artisan) colour their output with SGR escape sequences. We keep
the colours as CSS classes and drop every other escape sequence (cursor moves, titles). This is
the only parser: stored lines are rendered here (`ansi_to_html`), and the live log's frames
carry the same segments (`frame_segments`), which static/js/livelog.js only turns into spans.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")

# CSI sequences (ESC [ params final), OSC sequences (ESC ] … BEL/ST) and two-byte escapes.
ESCAPE = re.compile(r"\x1b(?:\[([0-?]*)[ -/]*([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


class Segment(NamedTuple):
    classes: tuple[str, ...]
    text: str


class _Style:
    """The SGR state while walking a line: bold on/off and one foreground colour."""

    def __init__(self) -> None:
        self.bold = False
        self.colour = ""

    def apply(self, params: str) -> None:
        for code in _codes(params):
            if code == 0:
                self.bold, self.colour = False, ""
            elif code == 1:
                self.bold = True
            elif code == 22:
                self.bold = False
            elif code == 39:
                self.colour = ""
            elif 30 <= code <= 37:
                self.colour = f"ansi-{COLOURS[code - 30]}"
            elif 90 <= code <= 97:
                self.colour = f"ansi-bright-{COLOURS[code - 90]}"

    def classes(self) -> tuple[str, ...]:
        return (("ansi-bold",) if self.bold else ()) + ((self.colour,) if self.colour else ())


def _codes(params: str) -> list[int]:
    # An empty parameter means 0 ("ESC[m" resets), as terminals treat it.
    return [int(part) if part.isdigit() else 0 for part in (params or "0").split(";")]


def ansi_segments(text: str) -> list[Segment]:
    """Split `text` into styled segments; escape sequences vanish, empty segments are dropped."""
    style, segments, position = _Style(), [], 0
    for match in ESCAPE.finditer(text):
        if match.start() > position:
            segments.append(Segment(style.classes(), text[position : match.start()]))
        if match.group(2) == "m":
            style.apply(match.group(1))
        position = match.end()
    if position < len(text):
        segments.append(Segment(style.classes(), text[position:]))
    return segments


def frame_segments(text: str) -> list[list[str]]:
    """The segments of one line as a live log frame carries them: `[classes, text]` pairs, the
    classes space-separated ("" for plain text)."""
    if "\x1b" not in text:  # most lines: no escape sequence to look for
        return [["", text]] if text else []
    return [[" ".join(segment.classes), segment.text] for segment in ansi_segments(text)]


def ansi_to_html(text: str) -> SafeString:
    """HTML for one log line: every segment's text escaped, coloured ones wrapped in spans."""
    if "\x1b" not in text:  # most lines: one plain segment
        return mark_safe(escape(text))  # noqa: S308 — escaped
    parts = []
    for segment in ansi_segments(text):
        body = escape(segment.text)
        if segment.classes:
            body = f'<span class="{" ".join(segment.classes)}">{body}</span>'
        parts.append(body)
    # Safe: the only unescaped text is our own markup around escaped segments.
    return mark_safe("".join(parts))  # noqa: S308


def strip_ansi(text: str) -> str:
    """The plain text of a line, for the raw log download."""
    return ESCAPE.sub("", text)
