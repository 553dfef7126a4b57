"""Which releases cleanup removes: never the live or previous one; failed ones don't count."""

from __future__ import annotations

from deployments.pipeline.commands import RECORD_AND_PRUNE, cleanup, releases_to_remove
from deployments.pipeline.facts import ServerFacts
from tests.deployments.pipeline.contexts import SHA, make_ctx

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
    facts = ServerFacts(current_target=f"releases/{OLD[1]}", releases=OLD, logged_releases=logged,
                        created_releases=OLD)

    removed = releases_to_remove(make_ctx(release="20260102000000", releases_to_keep=3), facts)

    assert removed == list(OLD[2:])


def test_it_counts_every_release_when_there_is_no_log_yet():
    facts = ServerFacts(current_target=f"releases/{OLD[-1]}", releases=OLD, logged_releases=None,
                        created_releases=OLD)

    assert releases_to_remove(make_ctx(release="20260102000000", releases_to_keep=6), facts) == [
        OLD[0]
    ]


def test_it_logs_the_release_then_removes_absolute_release_paths_in_one_command():
    facts = ServerFacts(releases=OLD[:2], logged_releases=OLD[:2])

    command = cleanup(make_ctx(release="20260102000000", releases_to_keep=2), facts, SHA)

    assert command.argv[:3] == ("sh", "-c", RECORD_AND_PRUNE)
    assert command.argv[4:] == (
        f'{{"release": "20260102000000", "commit": "{SHA}", "deployment": 42}}',
        "/srv/app/.deploynix/releases.log",
        f"/srv/app/releases/{OLD[0]}",
    )
