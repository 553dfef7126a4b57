"""The maths behind the tables: percentiles, idle stretches, stale answers, known_hosts names."""

from __future__ import annotations

from bench.load import LoadStats
from bench.report import _gaps
from bench.scenarios import _count_stale
from bench.testbed import known_host


def _stats(*samples: tuple[float, float, str | None, bool]) -> LoadStats:
    return LoadStats(samples=list(samples))


def test_it_takes_percentiles_in_milliseconds_over_all_or_windowed_samples():
    stats = _stats(*((float(t), t / 1000, "r", True) for t in range(1, 101)))
    assert stats.percentile(0.5) == 51.0
    assert stats.percentile(0.99, [(1.0, 10.0)]) == 10.0


def test_it_calls_the_stretches_between_switch_windows_idle():
    stats = _stats((0.0, 0.01, "a", True), (10.0, 0.01, "a", True))
    assert _gaps([(2.0, 3.0), (5.0, 6.0)], stats.samples) == [(0.0, 2.0), (3.0, 5.0), (6.0, 10.0)]


def test_it_counts_an_old_release_answering_well_after_the_switch_as_stale():
    live_log = [(0.0, "old"), (5.0, "new")]
    stats = _stats(
        (4.0, 0.01, "old", True),
        (5.01, 0.01, "old", True),
        (6.0, 0.01, "old", True),
        (6.0, 0.01, "new", True),
    )
    assert _count_stale(stats, live_log) == 1


def test_it_names_port_22_without_brackets_in_known_hosts():
    assert known_host("10.1.2.3", 22) == "10.1.2.3"
    assert known_host("127.0.0.1", 2222) == "[127.0.0.1]:2222"
