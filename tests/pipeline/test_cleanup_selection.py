"""Which releases cleanup removes: never the live or previous one; failed ones don't count."""

from __future__ import annotations

from deployments.pipeline.commands import cleanup, releases_to_remove
from deployments.pipeline.facts import ServerFacts
from tests.pipeline.contexts import make_ctx

OLD = tuple(f"2026010100000{n}" for n in range(1, 7))  # ...01 oldest ... 06 newest


def test_it_keeps_the_newest_n_successful_releases():
    facts = ServerFacts(current_target=f"releases/{OLD[-1]}", releases=OLD, logged_releases=OLD)

    removed = releases_to_remove(make_ctx(release="20260102000000", releases_to_keep=3), facts)

    assert removed == list(OLD[:4])


def test_it_never_removes_the_previous_release_even_when_old():
    facts = ServerFacts(current_target=f"releases/{OLD[0]}", releases=OLD, logged_releases=OLD)

    removed = releases_to_remove(make_ctx(release="20260102000000", releases_to_keep=2), facts)

    assert OLD[0] not in removed
    assert removed == list(OLD[1:5])


def test_it_does_not_count_unlogged_failed_leftovers_and_removes_them():
    logged = (OLD[0], OLD[1])
    facts = ServerFacts(current_target=f"releases/{OLD[1]}", releases=OLD, logged_releases=logged)

    removed = releases_to_remove(make_ctx(release="20260102000000", releases_to_keep=3), facts)

    assert removed == list(OLD[2:])


def test_it_counts_every_release_when_there_is_no_log_yet():
    facts = ServerFacts(current_target=f"releases/{OLD[-1]}", releases=OLD, logged_releases=None)

    assert releases_to_remove(make_ctx(release="20260102000000", releases_to_keep=6), facts) == [
        OLD[0]
    ]


def test_it_removes_with_one_rm_of_absolute_release_paths():
    facts = ServerFacts(releases=OLD[:2], logged_releases=OLD[:2])

    [rm] = cleanup(make_ctx(release="20260102000000", releases_to_keep=2), facts)

    assert rm.argv == ("rm", "-rf", "--", f"/srv/app/releases/{OLD[0]}")
