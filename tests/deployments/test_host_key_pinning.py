"""Trust on first use for the git host: the first successful deploy pins the key it saw."""

from __future__ import annotations

from django.utils import timezone

from deployments import lifecycle
from deployments.models import LogLine, Status, Trigger
from deployments.pipeline.steps import TOFU_NOTE
from deployments.services import deployment_request
from servers.ssh import generate_keypair
from tenancy.audit import Actor
from tenancy.models import AuditEvent

KEY = "[git.example.test]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTest"


def finish_with_note(site, cast, status: str):
    deployment = deployment_request(site=site, actor=Actor(user=cast.owner), trigger=Trigger.MANUAL)
    lifecycle.deployment_claim(deployment.pk)
    LogLine.objects.create(deployment=deployment, seq=1, server="web-1", stream="info",
                           text=TOFU_NOTE + KEY, ts=timezone.now())
    lifecycle.deployment_finish(deployment_id=deployment.pk, status=status)
    site.refresh_from_db()


def test_it_pins_the_key_the_first_successful_deploy_saw(cast, make_site):
    site = make_site(repository_host_keys="")
    finish_with_note(site, cast, Status.SUCCEEDED)
    assert site.repository_host_keys == KEY
    assert AuditEvent.objects.filter(verb="site.repository_host_key_pinned").exists()


def test_it_pins_nothing_after_a_failed_deploy(cast, make_site):
    site = make_site(repository_host_keys="")
    finish_with_note(site, cast, Status.FAILED)
    assert site.repository_host_keys == ""


def test_it_never_replaces_a_pinned_key(cast, make_site):
    pinned = "[git.example.test]:22 " + generate_keypair()[1]
    site = make_site(repository_host_keys=pinned)
    finish_with_note(site, cast, Status.SUCCEEDED)
    assert site.repository_host_keys == pinned
