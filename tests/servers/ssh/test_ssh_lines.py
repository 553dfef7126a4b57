"""The line splitter alone (no sshd): chunk boundaries, line breaks, long lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from servers.ssh.lines import LineSplitter


def split(chunks, max_line_bytes=64 * 1024):
    splitter = LineSplitter(max_line_bytes)
    lines = [line for chunk in chunks for line in splitter.feed(chunk)]
    return lines + splitter.flush()


def test_it_treats_cr_lf_and_crlf_as_one_break_each():
    assert split([b"a\rb\nc\r\nd"]) == [b"a", b"b", b"c", b"d"]


def test_it_joins_a_crlf_split_across_chunks():
    assert split([b"a\r", b"", b"\nb"]) == [b"a", b"b"]


def test_it_keeps_empty_lines():
    assert split([b"a\n\n\nb\n"]) == [b"a", b"", b"", b"b"]


def test_it_splits_long_lines_on_utf8_character_boundaries():
    text = ("€" * 10).encode()  # 3 bytes each
    pieces = split([text], max_line_bytes=8)
    assert b"".join(pieces) == text
    assert all(piece.decode() for piece in pieces)


@given(st.binary(max_size=64), st.lists(st.integers(min_value=0, max_value=64)))
def test_it_gives_the_same_lines_whatever_the_chunking(data, cuts):
    chunks, start = [], 0
    for cut in sorted(cuts):
        chunks.append(data[start:cut])
        start = max(start, cut)
    chunks.append(data[start:])
    assert split(chunks, max_line_bytes=8) == split([data], max_line_bytes=8)
