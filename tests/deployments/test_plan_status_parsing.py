"""Reading `artisan migrate:status` output (pure: deployments/pipeline/release_diff.py)."""

from __future__ import annotations

from deployments.pipeline.release_diff import parse_migrate_status

LARAVEL_10 = """
  Migration name .............................................. Batch / Status
  2014_10_12_000000_create_users_table ................................ [1] Ran
  2024_02_01_000000_drop_title ........................................ Pending
"""
LARAVEL_8 = """+------+------------------------------------------------+-------+
| Ran? | Migration                                      | Batch |
+------+------------------------------------------------+-------+
| Yes  | 2014_10_12_000000_create_users_table           | 1     |
| No   | 2024_02_01_000000_drop_title                   |       |
+------+------------------------------------------------+-------+
"""


def test_it_reads_the_pending_rows_of_laravel_10():
    assert parse_migrate_status(LARAVEL_10.splitlines()) == ["2024_02_01_000000_drop_title"]


def test_it_reads_the_pending_rows_of_the_older_table():
    assert parse_migrate_status(LARAVEL_8.splitlines()) == ["2024_02_01_000000_drop_title"]


def test_all_ran_is_no_pending_and_not_a_failure():
    assert parse_migrate_status(LARAVEL_10.splitlines()[:3]) == []


def test_output_without_status_rows_is_none():
    assert parse_migrate_status(["Migration table not found.", "; rm -rf / ... Pending"]) \
        is None
