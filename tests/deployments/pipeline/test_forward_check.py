"""The forward-only check of a push-triggered deploy, as a pure builder (golden argv)."""

from __future__ import annotations

from deployments.pipeline import git
from tests.deployments.pipeline.contexts import make_ctx

SHA = "c" * 40


def test_it_checks_the_commit_against_the_branch_tip_and_the_live_revision():
    command = git.forward_check(make_ctx(branch="release/1.x"), SHA)
    assert command.argv == (
        "sh", "-c", git.FORWARD_SCRIPT, "sh", "/srv/app/repo", SHA, "refs/heads/release/1.x",
        "/srv/app/current", str(git.STALE_COMMIT), *git.GIT_SAFETY,
    )  # fmt: skip


def test_it_refuses_with_its_own_exit_status_only_after_the_ancestry_check():
    lines = git.FORWARD_SCRIPT.strip().splitlines()
    assert 'merge-base --is-ancestor "$live" "$sha"' in "\n".join(lines)
    assert lines[-1] == 'exit "$stale"'
