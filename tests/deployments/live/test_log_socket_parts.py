"""Small pure parts of the log socket."""

from __future__ import annotations

from deployments.consumers import after_seq


def test_it_reads_after_as_from_the_start_when_missing_or_malformed():
    assert [after_seq(q) for q in (b"", b"after=-3", b"after=x", b"after=12")] == [0, 0, 0, 12]
