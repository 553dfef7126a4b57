"""A site's servers belong to the site's organization: the database refuses anything else,
and the executor refuses to connect if such a link ever exists."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from deployments.models import Deployment
from deployments.worker import execute
from servers.models import Server

pytestmark = pytest.mark.django_db


def _plant_link(site, server) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sites_site_servers (site_id, server_id) VALUES (%s, %s)",
            [site.pk, server.pk],
        )


def test_it_refuses_a_cross_organization_link_planted_with_raw_sql(site, other_server):
    with pytest.raises(IntegrityError), transaction.atomic():
        _plant_link(site, other_server)
    assert list(site.servers.all()) == list(Server.objects.filter(organization=site.organization))


def test_it_refuses_moving_a_linked_server_to_another_organization(site, server, cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        Server.objects.filter(pk=server.pk).update(organization=cast.other_org)


def test_it_refuses_moving_a_site_away_from_its_servers(site, cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        type(site).objects.filter(pk=site.pk).update(organization=cast.other_org)


def _drop_link_triggers() -> None:
    """Simulate a database without the triggers (this test's transaction restores them)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks before ALTER
            cursor.execute("DROP TRIGGER IF EXISTS site_servers_same_org ON sites_site_servers")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS site_servers_same_org_insert")


def test_the_executor_refuses_a_server_of_another_organization(site, other_server):
    _drop_link_triggers()
    _plant_link(site, other_server)
    deployment = Deployment.objects.create(
        site=site, organization=site.organization, branch="main", status="running",
        release="20260101000000",
    )
    result = execute(deployment)
    assert result.status == "failed"
    assert "'theirs' belongs to another organization" in result.error
