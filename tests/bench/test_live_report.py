"""The live-log table: each rate against its target, where the time went, CPU per 1,000 lines."""

from __future__ import annotations

from bench.report import live_table


def _run(rate: int, p95: float, **extra) -> dict:
    return {
        "rate": rate, "printed": rate, "stored": rate, "received": rate, "lost": 0,
        "duplicates": 0, "p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95, "max_ms": p95,
        "largest_message": {"lines": 500, "bytes": 60_000}, "status": "succeeded",
        "socket_ended": "", **extra,
    }


def test_it_judges_each_targeted_rate_and_shows_the_cpu_per_1000_lines():
    measured = {"ssh_hop": {"p95_ms": 4.0}, "panel_hop": {"p95_ms": 140.0},
                "worker_cpu_ms_per_1000": 14.25, "daphne_cpu_ms_per_1000": 1.5}
    table = live_table({"runs": [_run(1000, 35, **measured), _run(10000, 150, **measured),
                                 _run(20000, 900, **measured)]})
    rows = table.splitlines()[2:]
    assert ["met" in rows[0], "**missed**" in rows[1], "| — |" in rows[2]] == [True] * 3
    assert "| 4 / 140 | 14.2 / 1.5 |" in rows[1]


def test_it_renders_a_run_kept_from_before_the_breakdown():
    [row] = live_table({"runs": [_run(10000, 90)]}).splitlines()[2:]
    assert "none lost: met | — | — |" in row
