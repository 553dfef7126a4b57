"""A later migration may change the tables the same-organization triggers guard
(sites/migrations/0007_site_servers_same_organization.py), and the triggers still hold after it.

SQLite makes most such changes by rebuilding the table (create `new__<table>`, copy, drop,
rename), which the triggers of the other tables used to break ("no such table:
main.sites_site") and which silently dropped the triggers of the rebuilt table itself; the
project's SQLite backend (deploynix/sqlite/schema.py) sets them aside and puts them back.
PostgreSQL alters the table in place and keeps its triggers: the same tests run there too.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, migrations, models, transaction
from django.db.migrations.loader import MigrationLoader

from servers.models import Server
from sites.models import Site

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite]


@pytest.fixture
def rolled_back():
    """Whatever the test changes, schema included, is undone at its end (DDL is transactional on
    SQLite and PostgreSQL), so no other test sees the throwaway column."""
    # SQLite's schema editor needs foreign key checks off, which only works outside a
    # transaction: the migration executor turns them off first in the same way.
    connection.disable_constraint_checking()
    try:
        with transaction.atomic():
            yield
            transaction.set_rollback(True)
    finally:
        connection.enable_constraint_checking()


def _migrate_throwaway(app_label: str, model_name: str) -> None:
    """Add a NON-NULL column with a default, alter it, remove it: each one a table rebuild on
    SQLite (the indexed column cannot be dropped in place)."""
    migration = migrations.Migration("9999_throwaway", app_label)
    migration.operations = [
        migrations.AddField(model_name, "probe", models.IntegerField(default=7)),
        migrations.AlterField(
            model_name, "probe", models.CharField(max_length=8, default="7", db_index=True)
        ),
        migrations.RemoveField(model_name, "probe"),
    ]
    state = MigrationLoader(connection).project_state()
    with connection.schema_editor(atomic=False) as editor:
        migration.apply(state, editor)


def _plant_link(site: Site, server: Server) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sites_site_servers (site_id, server_id) VALUES (%s, %s)",
            [site.pk, server.pk],
        )


def test_it_changes_the_sites_table_and_the_triggers_still_refuse(site, other_server, rolled_back):
    _migrate_throwaway("sites", "site")
    with pytest.raises(IntegrityError):
        _plant_link(site, other_server)
    with pytest.raises(IntegrityError), transaction.atomic():
        Site.objects.filter(pk=site.pk).update(organization=other_server.organization)


def test_it_changes_the_servers_table_and_the_triggers_still_refuse(
    site, server, other_server, rolled_back
):
    _migrate_throwaway("servers", "server")
    with pytest.raises(IntegrityError):
        _plant_link(site, other_server)
    with pytest.raises(IntegrityError), transaction.atomic():
        Server.objects.filter(pk=server.pk).update(organization=other_server.organization)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL never rebuilds a table")
def test_a_rebuilt_link_table_keeps_its_rows_and_its_own_triggers(site, other_server, rolled_back):
    link = Site.servers.through
    # What SQLite does to the link table when the type of a key it points to changes.
    with connection.schema_editor(atomic=False) as editor:
        editor._remake_table(link)
    with pytest.raises(IntegrityError):
        _plant_link(site, other_server)
    assert list(site.servers.values_list("name", flat=True)) == ["web-1"]
