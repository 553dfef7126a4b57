"""Large and binary output over a real connection."""

from __future__ import annotations

import tracemalloc

import pytest

pytestmark = pytest.mark.ssh

# 104,858 numbered lines of 100 bytes each: 10 MB.
TEN_MB_OF_LINES = "awk 'BEGIN { for (i = 0; i < 104858; i++) printf \"%099d\\n\", i }'"


async def test_it_streams_ten_megabytes_in_order_without_losing_a_line(ssh_connection):
    received = {"lines": 0, "in_order": 0}

    def check(line):
        received["in_order"] += line.text == f"{received['lines']:099d}"
        received["lines"] += 1

    result = await ssh_connection.run(["sh", "-c", TEN_MB_OF_LINES], on_line=check)
    assert result.exit_status == 0
    assert received == {"lines": 104858, "in_order": 104858}


async def test_it_does_not_buffer_the_whole_output(ssh_connection):
    thirty_two_mb = "head -c 33554432 /dev/zero | tr '\\0' 'x'"
    tracemalloc.start()
    try:
        await ssh_connection.run(["sh", "-c", thirty_two_mb], on_line=lambda line: None)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024  # 32 MB went through; a generous bound well below it


async def test_it_survives_bytes_that_are_not_utf8(ssh_connection):
    lines = []
    script = r"printf 'caf\351\nok \342\202\254\n\377\376\n'"
    await ssh_connection.run(["sh", "-c", script], on_line=lines.append)
    assert [line.text for line in lines] == ["caf\ufffd", "ok \u20ac", "\ufffd\ufffd"]


async def test_it_splits_a_huge_line_without_newlines_into_pieces(ssh_connection):
    sizes = []
    await ssh_connection.run(
        ["sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' 'y'"],
        on_line=lambda line: sizes.append(len(line.text)),
    )
    assert sum(sizes) == 1000000
    assert max(sizes) <= 64 * 1024
