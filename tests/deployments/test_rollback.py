"""rollback_request: only to a retained successful release of this site that is not live."""

from __future__ import annotations

import pytest

from deployments import lifecycle
from deployments.models import Deployment, Kind, Status, Trigger
from deployments.services import DeploymentError, deployment_request, rollback_request
from tenancy.audit import Actor


def _deploy(site, cast, n: int, status: str = Status.SUCCEEDED) -> Deployment:
    deployment = deployment_request(
        site=site, actor=Actor(user=cast.developer), trigger=Trigger.MANUAL, commit=f"{n:040x}"
    )
    lifecycle.deployment_claim(deployment.pk)
    Deployment.objects.filter(pk=deployment.pk).update(release=f"2030010100{n:04d}")
    lifecycle.deployment_finish(deployment_id=deployment.pk, status=status)
    return Deployment.objects.get(pk=deployment.pk)


def _rollback(site, cast, release: str) -> Deployment:
    return rollback_request(
        site=site, release=release, actor=Actor(user=cast.developer), trigger=Trigger.MANUAL
    )


def test_it_queues_a_rollback_to_a_retained_release(site, cast):
    old, live = _deploy(site, cast, 1), _deploy(site, cast, 2)
    rollback = lifecycle.deployment_claim(_rollback(site, cast, old.release).pk)
    assert (rollback.kind, rollback.release, rollback.commit_sha) == (
        Kind.ROLLBACK, old.release, old.commit_sha,
    )
    assert rollback.previous_release == live.release


@pytest.mark.parametrize("release", ["20990101000000", "../../etc", ""])
def test_it_refuses_an_unknown_release(site, cast, release):
    _deploy(site, cast, 1)
    with pytest.raises(DeploymentError, match="not a retained"):
        _rollback(site, cast, release)


def test_it_refuses_the_live_release(site, cast):
    _deploy(site, cast, 1)
    live = _deploy(site, cast, 2)
    with pytest.raises(DeploymentError, match="already live"):
        _rollback(site, cast, live.release)


def test_it_refuses_a_failed_release(site, cast):
    failed = _deploy(site, cast, 1, status=Status.FAILED)
    _deploy(site, cast, 2)
    with pytest.raises(DeploymentError):
        _rollback(site, cast, failed.release)


def test_it_refuses_a_pruned_release(site, cast):
    site.releases_to_keep = 1
    site.save()
    pruned = _deploy(site, cast, 1)
    _deploy(site, cast, 2)
    with pytest.raises(DeploymentError):
        _rollback(site, cast, pruned.release)


def test_it_refuses_a_release_of_another_site(site, make_site, cast):
    other = make_site(name="other-site")
    theirs = _deploy(other, cast, 1)
    _deploy(other, cast, 2)
    with pytest.raises(DeploymentError):
        _rollback(site, cast, theirs.release)
