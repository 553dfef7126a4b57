"""The button path's split and the worker's CPU per deployment (bench/button_figures.py)."""

from __future__ import annotations

import pytest

from bench import button_figures as figures
from bench import report

MOMENTS = {"sent": 100.0, "returned": 100.08, "started": 100.06, "pipeline_done": 100.46,
           "frame": 100.52}


def test_the_parts_of_a_click_add_up_to_the_whole():
    split = figures.split(MOMENTS)
    assert split["total"] == pytest.approx(0.52)
    assert sum(split[part] for part in figures.PARTS) == pytest.approx(split["total"])


def test_a_claim_before_the_answer_arrived_is_a_negative_pick_up():
    split = figures.split(MOMENTS)
    assert split["pickup"] == pytest.approx(-0.02)
    assert split["pipeline"] == pytest.approx(0.40)
    assert split["finish"] == pytest.approx(0.06)


def test_medians_are_taken_figure_by_figure():
    runs = [{"total": 3.0, "post": 1.0}, {"total": 1.0, "post": 2.0}, {"total": 2.0, "post": 9.0}]
    assert figures.medians(runs) == {"n": 3, "total": 2.0, "post": 2.0}
    assert figures.medians([]) == {"n": 0}


def test_the_probes_answered_in_between_are_not_charged_to_the_deployment():
    before = {"user": 1.0, "system": 0.5}
    after = {"user": 1.1, "system": 0.53}
    assert figures.cpu_between(before, after, probes=4, probe_cost=0.001) == pytest.approx(0.126)


def test_a_probe_costs_the_median_step_between_back_to_back_answers():
    answers = [{"user": u, "system": 0.0} for u in (1.0, 1.001, 1.003, 1.004, 1.104)]
    assert figures.probe_cost(answers) == pytest.approx(0.0015)
    assert figures.probe_cost(answers[:1]) == 0.0


def _measured(solo_ms: list[float], total: float) -> dict:
    runs = [{"total": total, "post": 0.05, "pickup": 0.01, "pipeline": total - 0.1,
             "finish": 0.04}] * 7
    return {
        "probe_cost_ms": 1.0,
        "rss_idle_kib": 100 * 1024,
        "button": {
            "deploy": runs, "rollback": runs, "deploy_medians": figures.medians(runs),
            "rollback_medians": figures.medians(runs),
            "solo": [{"cpu_ms": ms, "maxrss_kib": 120 * 1024, "rss_kib": 110 * 1024}
                     for ms in solo_ms],
        },
        "together": {"deploys": 50, "concurrency": 32, "wall_s": 9.5, "cpu_ms_total": 2500.0,
                     "cpu_ms_per_deploy": 50.0, "rss_before_kib": 110 * 1024,
                     "maxrss_kib": 200 * 1024, "failed": 0},
    }


def test_the_button_table_judges_the_median_against_the_target():
    assert "| met |" in report.button_table(_measured([50.0], total=0.5))
    assert report.MISSED in report.button_table(_measured([50.0], total=0.7))


def test_the_worker_cost_table_shows_solo_and_together_against_the_target():
    table = report.worker_cost_table(_measured([40.0, 70.0, 50.0], total=0.5))
    solo, together = table.splitlines()[2:4]
    assert "| 50 / 70 | met |" in solo
    assert "100 → 120" in solo
    assert "| 50 at once (worker `-c 32`) | 50 (total 2,500) | met | 110 → 200 |" in together
