"""End to end: a due schedule is fired by the beat task and really deploys its exact commit
over a real sshd (Celery eager: the deploy runs in this process, against the test database)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from deployments.models import Deployment, Status, Trigger
from deploynix.audit import Actor
from schedules.services import schedule_create
from schedules.tasks import fire_due_schedules
from servers.models import OrganizationKey, Server
from sites.models import Site
from sites.services import site_create
from testbed.gitrepo import AppRepo
from testbed.sshd import SshdHost

pytestmark = [pytest.mark.ssh, pytest.mark.redis, pytest.mark.slow,
              pytest.mark.django_db(transaction=True)]
NO_BUILD_TOOLS = dict.fromkeys(("composer.json", "composer.lock", "package.json",
                                "package-lock.json"))


@pytest.fixture
def eager_celery():
    from deploynix.celery import app

    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = False


@pytest.fixture
def repo(tmp_path: Path) -> AppRepo:
    repo = AppRepo.create(tmp_path / "repos", "laravelish")
    repo.commit(NO_BUILD_TOOLS, "Plain PHP: nothing to install")
    return repo


@pytest.fixture
def live_site(cast, sshd_host: SshdHost, repo: AppRepo, tmp_path: Path) -> Site:
    """A plain-PHP site deployable to the session's sshd (organization and deploy keys trusted)."""
    for key in OrganizationKey.objects.filter(organization=cast.org):
        sshd_host.add_authorized_key(key.public_key)
    server = Server.objects.create(
        organization=cast.org, name="web-1", host=sshd_host.host, port=sshd_host.port,
        user=sshd_host.user, host_key=sshd_host.host_key_line,
    )
    site = site_create(
        organization=cast.org, actor=Actor(user=cast.owner), servers=[server], name="demo",
        preset="php", reload_method="none", deploy_path=str(sshd_host.root / tmp_path.name),
        repository_url=repo.ssh_url(sshd_host.user, sshd_host.host, sshd_host.port),
        repository_host_keys=f"[{sshd_host.host}]:{sshd_host.port} {sshd_host.host_key_line}",
    )
    sshd_host.add_authorized_key(site.deploy_key_public)
    return site


def test_it_deploys_the_scheduled_commit_when_due(cast, live_site, repo, eager_celery):
    wanted = repo.commit({"VERSION": "scheduled\n"}, "Release scheduled")
    repo.commit({"VERSION": "newer\n"}, "A later commit that must not go out")
    schedule = schedule_create(site=live_site, actor=Actor(user=cast.developer),
                               run_at=timezone.now() + timedelta(hours=1), commit=wanted)
    assert fire_due_schedules() == []  # not due yet
    schedule.__class__.objects.filter(pk=schedule.pk).update(run_at=timezone.now())
    assert fire_due_schedules() == [schedule.pk]
    deployment = Deployment.objects.get()
    assert (deployment.status, deployment.trigger, deployment.commit_sha) == (
        Status.SUCCEEDED, Trigger.SCHEDULE, wanted), deployment.error
    assert (Path(live_site.deploy_path) / "current" / "VERSION").read_text() == "scheduled\n"
