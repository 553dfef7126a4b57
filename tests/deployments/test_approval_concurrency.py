"""Approvers clicking at the same moment, each thread on its own database connection: the
deployment is approved, audited and queued exactly once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from deployments.approvals import deployment_approve
from deployments.models import Deployment, Status, Trigger
from deployments.services import deployment_request
from deployments.signals import deployment_queued
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tenancy.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_approvals_queue_the_deployment_once(site, cast):
    site.approval_role = Role.MANAGER
    site.save(update_fields=["approval_role"])
    deployment = deployment_request(site=site, actor=Actor(user=cast.developer),
                                    trigger=Trigger.MANUAL)
    approvers = [(cast.owner, Role.OWNER), (cast.admin, Role.ADMIN),
                 (cast.manager, Role.MANAGER)] * 2
    barrier, queued = threading.Barrier(len(approvers)), []
    deployment_queued.connect(lambda sender, deployment_id, **kw: queued.append(deployment_id),
                              weak=False, dispatch_uid="test-approval-concurrency")

    def approve(n: int) -> str:
        user, role = approvers[n]
        try:
            barrier.wait()
            return deployment_approve(deployment=deployment, actor=Actor(user=user),
                                      role=role).status
        finally:
            connections.close_all()

    try:
        with ThreadPoolExecutor(len(approvers)) as pool:
            statuses = list(pool.map(approve, range(len(approvers))))
    finally:
        deployment_queued.disconnect(dispatch_uid="test-approval-concurrency")
    assert set(statuses) == {Status.QUEUED}
    assert queued == [deployment.pk]
    assert AuditEvent.objects.filter(verb="deployment.approved").count() == 1
    assert Deployment.objects.get(pk=deployment.pk).status == Status.QUEUED
