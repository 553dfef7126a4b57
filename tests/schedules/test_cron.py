"""Cron expressions: the one check (bounded, five fields, not too often, runs at all), the next
run in the organization's time zone across daylight saving, and the words of the preview."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from schedules.cron import clean_cron, describe, next_run, upcoming

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize("text,message", [
    ("", "Five fields"),
    ("0 6 * *", "Five fields"),
    ("0 6 * * 1-5 2026", "Five fields"),
    ("61 6 * * *", "Five fields"),
    ("@reboot", "Five fields"),
    ("* * * * *", "every 10 minutes"),
    ("0,5 * * * *", "every 10 minutes"),
    ("0 0 30 2 *", "never runs"),
    ("0 " * 60, "At most 100"),
])
def test_it_refuses_a_bad_expression_with_a_reason(text, message):
    with pytest.raises(ValidationError) as exc:
        clean_cron(text)
    assert message in exc.value.messages[0]


def test_it_normalizes_the_spaces_of_a_good_expression():
    assert clean_cron("  0   6 * *\t1-5 ") == "0 6 * * 1-5"


def test_it_says_a_weekday_morning_in_words():
    assert describe("0 6 * * 1-5") == "At 06:00, Monday through Friday"


def test_it_runs_at_the_same_wall_time_on_both_sides_of_daylight_saving():
    friday_before_switch = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    runs = upcoming("0 6 * * 1-5", BERLIN, friday_before_switch, 2)
    assert runs == [datetime(2026, 3, 30, 4, tzinfo=UTC), datetime(2026, 3, 31, 4, tzinfo=UTC)]
    assert next_run("0 6 * * 1-5", BERLIN, datetime(2026, 3, 26, 12, 0, tzinfo=UTC)) == datetime(
        2026, 3, 27, 5, 0, tzinfo=UTC)  # 06:00 CET, before the switch
