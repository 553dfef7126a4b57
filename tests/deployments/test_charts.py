"""The SVG charts: proportional, coloured by outcome, and safe with hostile labels."""

from __future__ import annotations

import re

from deployments.charts import Bar, durations_chart, step_bar


def _heights(svg: str) -> list[float]:
    bar = r'<rect class="bar [a-z]+" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"'
    return [float(h) for h in re.findall(bar, svg)]


def test_it_scales_bars_to_the_longest_deployment():
    svg = durations_chart([Bar("a", 10, "succeeded"), Bar("b", 5, "failed")], height=100)
    assert _heights(svg) == [100.0, 50.0]


def test_it_colours_bars_by_outcome():
    svg = durations_chart([Bar("a", 1, "succeeded"), Bar("b", 1, "failed")])
    assert 'class="bar ok"' in svg and 'class="bar bad"' in svg


def test_it_escapes_labels():
    svg = durations_chart([Bar("<script>alert(1)</script>", 1, "succeeded")])
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_it_splits_the_step_bar_by_time_share():
    svg = step_bar([("fetch_code", 3.0), ("activate", 1.0)], width=400)
    assert re.findall(r'width="([\d.]+)"', svg)[-2:] == ["300.0", "100.0"]


def test_it_draws_nothing_without_data():
    assert durations_chart([]) == "" and step_bar([("x", 0.0)]) == ""
