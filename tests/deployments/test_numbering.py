"""Deployments are numbered per site (#1, #2, ... of each site), and named so everywhere."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from deployments.models import Deployment, Trigger
from deployments.services import deployment_request, rollback_request
from tenancy.audit import Actor
from tenancy.models import AuditEvent
from tests.deployments.history_rows import build_history

pytestmark = pytest.mark.django_db
MIGRATION = importlib.import_module("deployments.migrations.0006_deployment_number_per_site")


def _deploy(site, user, commit: str) -> Deployment:
    return deployment_request(site=site, actor=Actor(user=user), trigger=Trigger.MANUAL,
                              commit=commit)


def test_each_site_counts_its_own_deployments(cast, make_site):
    shop, blog = make_site(name="shop"), make_site(name="blog", deploy_path="/srv/blog")
    numbers = [_deploy(site, cast.developer, c * 40).number
               for site, c in ((shop, "a"), (blog, "b"), (shop, "c"), (blog, "d"), (shop, "e"))]
    assert numbers == [1, 1, 2, 2, 3]


def test_a_rollback_takes_the_next_number_too(cast, site):
    build_history(site)
    Deployment.objects.filter(site=site, number=4).delete()  # #3 is live, #1 a target
    rollback = rollback_request(site=site, release="20260101000000",
                                actor=Actor(user=cast.developer), trigger=Trigger.MANUAL)
    assert rollback.number == 4


def test_the_audit_log_names_the_site_not_its_id(cast, site, client_for):
    deployment = _deploy(site, cast.developer, "a" * 40)
    event = AuditEvent.objects.get(verb="deployment.requested", target_id=str(deployment.pk))
    assert event.target_repr == f"Deploy #1 of {site.name}"
    audit_page = client_for(cast.owner).get("/o/acme/audit/").content.decode()
    assert f"Deploy #1 of {site.name}" in audit_page


def test_two_rows_of_a_site_cannot_share_a_number(cast, site):
    _deploy(site, cast.developer, "a" * 40)
    with pytest.raises(IntegrityError), transaction.atomic():
        Deployment.objects.create(site=site, organization=cast.org, branch="main",
                                  triggered_by_name="x", number=1)


def test_the_migration_numbers_existing_rows_per_site_in_request_order(cast, make_site):
    shop, blog = make_site(name="shop"), make_site(name="blog", deploy_path="/srv/blog")
    made = [Deployment.objects.create(site=s, organization=cast.org, branch="main",
                                      triggered_by_name="x") for s in (shop, blog, shop, shop)]
    MIGRATION.number_existing(apps, None)
    assert [Deployment.objects.get(pk=d.pk).number for d in made] == [1, 1, 2, 3]


def test_pages_name_deployments_by_their_site_number(cast, client_for, make_site):
    shop, blog = make_site(name="shop"), make_site(name="blog", deploy_path="/srv/blog")
    _deploy(shop, cast.developer, "a" * 40)
    second = _deploy(blog, cast.developer, "b" * 40)
    client = client_for(cast.viewer)
    page = client.get(f"/o/acme/deployments/{second.pk}/").content.decode()
    assert "Deploy #1 of" in page
    listing = client.get("/o/acme/deployments/").content.decode()
    assert f">#{second.pk}<" not in listing and ">#1<" in listing
