"""The plan of a rollback: which release becomes live, the commits that go away and, when the
rollback crosses migrations, the ones the database keeps (a rollback switches code, never the
database). Reads only: the panel's rows and facts, and the release diff from the live commit
back to the target (deployments/release_diff.py: a server's mirror, kept per pair).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deployments import selectors
from deployments.release_diff import Changes, DiffUnavailable, release_diff
from sites.models import Site

STAYS_MIGRATED = "The database stays migrated"


class NotARollbackTarget(ValueError):
    """The release is not one a rollback may go to (not on every server, or live)."""


@dataclass
class RollbackPlan:
    release: str
    commit: str
    live_release: str
    live_commit: str
    commits_gone: list[dict] = field(default_factory=list)
    more_commits: bool = False
    migrations_kept: list[str] = field(default_factory=list)
    diff_error: str = ""
    warnings: list[str] = field(default_factory=list)


def rollback_plan(*, site: Site, release: str) -> RollbackPlan:
    """What a rollback of `site` to `release` would do; raises NotARollbackTarget."""
    truth = selectors.site_truth(site=site)
    target = next((t for t in selectors.rollback_targets(site=site, truth=truth)
                   if t.release == release), None)
    if target is None:
        raise NotARollbackTarget(f"{release[:64]} is not a release a rollback may go to.")
    live = truth.live_everywhere or (truth.believed_live.release if truth.believed_live else "")
    plan = RollbackPlan(release=release, commit=target.commit, live_release=live or "",
                        live_commit=selectors.live_commit(site=site, truth=truth))
    _add_diff(site, plan)
    plan.warnings = _warnings(plan)
    return plan


def _add_diff(site: Site, plan: RollbackPlan) -> None:
    """The diff from the target up to what is live: its commits go away, its new migrations
    already ran and stay."""
    if not (plan.commit and plan.live_commit) or plan.commit == plan.live_commit:
        if plan.commit != plan.live_commit:
            plan.diff_error = "the live commit or the target's commit is unknown"
        return
    try:
        diff = release_diff(site=site, base=plan.commit, target=plan.live_commit)
    except DiffUnavailable as exc:
        plan.diff_error = str(exc)
        return
    changes = Changes(diff, {}, site.repository_url)
    plan.commits_gone = changes.commits
    plan.more_commits = bool(diff.get("more_commits"))
    plan.migrations_kept = [m["path"] for m in changes.migrations]


def _warnings(plan: RollbackPlan) -> list[str]:
    warnings = []
    if plan.migrations_kept:
        count = len(plan.migrations_kept)
        warnings.append(f"{STAYS_MIGRATED}: {count} migration{'' if count == 1 else 's'} that "
                        f"the live release ran {'is' if count == 1 else 'are'} not in release "
                        f"{plan.release} and {'is' if count == 1 else 'are'} not undone: "
                        f"{', '.join(plan.migrations_kept)}.")
    if plan.diff_error:
        warnings.append(f"The commits and migrations that go away could not be read: "
                        f"{plan.diff_error}.")
    return warnings
