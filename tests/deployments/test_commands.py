"""manage.py deploy / rollback: the same services (trigger cli), lookup, log follow, exit code."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from deployments import lifecycle
from deployments.follow import finish_cli, follow
from deployments.models import Deployment, LogLine, Status, Trigger
from sites.services import site_create
from tenancy.audit import Actor


def test_it_queues_a_cli_deploy_as_the_system(site):
    call_command("deploy", "shop", "--no-follow", "--commit", "c" * 40, stdout=io.StringIO())
    deployment = Deployment.objects.get(site=site)
    assert (deployment.trigger, deployment.triggered_by_name) == (Trigger.CLI, "system")
    assert deployment.commit_sha == "c" * 40


def test_it_refuses_an_unknown_site(site):
    with pytest.raises(CommandError, match="No site called"):
        call_command("deploy", "nope", "--no-follow")


def test_it_asks_for_the_organization_when_the_name_is_ambiguous(site, cast, other_server):
    site_create(organization=cast.other_org, actor=Actor(user=cast.outsider), name="shop",
                servers=[other_server], repository_url="git@github.com:o/s.git",
                deploy_path="/srv/shop")
    with pytest.raises(CommandError, match="--org"):
        call_command("deploy", "shop", "--no-follow")
    call_command("deploy", "shop", "--org", "other", "--no-follow", stdout=io.StringIO())
    assert Deployment.objects.get().site.organization == cast.other_org


def test_it_refuses_a_rollback_to_an_unknown_release(site):
    with pytest.raises(CommandError, match="not a retained"):
        call_command("rollback", "shop", "20990101000000", "--no-follow")


def _finished(site, status: str) -> Deployment:
    deployment = Deployment.objects.create(site=site, organization=site.organization, branch="main")
    lifecycle.deployment_claim(deployment.pk)
    for seq, text in enumerate(["fetching", "building"], start=1):
        LogLine.objects.create(deployment=deployment, seq=seq, server="web-1", stream="out",
                               text=text, ts=deployment.created_at)
    lifecycle.deployment_finish(deployment_id=deployment.pk, status=status, error="exit 1")
    return deployment


def test_it_prints_the_log_and_exits_0_on_success(site):
    out = io.StringIO()
    finish_cli(follow(_finished(site, Status.SUCCEEDED).pk, out, poll=0.01), out)
    assert out.getvalue().startswith("[web-1] fetching\n[web-1] building\n")


def test_it_exits_1_when_the_deployment_failed(site):
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        finish_cli(follow(_finished(site, Status.FAILED).pk, out, poll=0.01), out)
    assert failed.value.returncode == 1 and "exit 1" in str(failed.value)
