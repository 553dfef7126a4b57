"""Table rebuilds that keep the triggers naming the rebuilt table.

SQLite cannot alter most columns in place, so Django's schema editor rebuilds the table
(`_remake_table`: create `new__<table>`, copy, DROP, RENAME). Two things go wrong when triggers
name that table, as the same-organization triggers of
sites/migrations/0007_site_servers_same_organization.py do:

- the RENAME re-checks every trigger of the schema, and one on another table whose body names
  the dropped table fails it ("error in trigger ...: no such table: main.sites_site");
- the DROP silently drops the triggers ON the table itself, so they would be gone after.

So every trigger whose text names the table is dropped before the rebuild and created again,
from the very SQL stored in sqlite_master, after it: trigger definitions stay where they were
written (the migrations), and no migration has to know about them. Turning on
`legacy_alter_table` for the rename would cure only the first problem.
"""

from __future__ import annotations

import re

from django.db.backends.sqlite3 import schema


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    def _remake_table(self, model, create_field=None, delete_field=None, alter_fields=None):
        triggers = self._triggers_naming(model._meta.db_table)
        for name, _sql in triggers:
            self.execute(f"DROP TRIGGER {self.quote_name(name)}", params=None)
        super()._remake_table(
            model, create_field=create_field, delete_field=delete_field, alter_fields=alter_fields
        )
        # params=None: the stored SQL runs as it is, with no %-placeholder processing.
        for _name, sql in triggers:
            self.execute(sql, params=None)

    def _triggers_naming(self, table: str) -> list[tuple[str, str]]:
        """(name, CREATE TRIGGER sql) of every trigger on `table` or whose body names it, in the
        order they were created. A false match (the name inside a string) only costs a
        needless drop and re-create."""
        # Identifiers are case-insensitive; `sites_site` must not match `sites_site_servers`.
        names_table = re.compile(rf"(?<![\w$]){re.escape(table)}(?![\w$])", re.IGNORECASE)
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, tbl_name, sql FROM sqlite_master"
                " WHERE type = 'trigger' ORDER BY rowid"
            )
            rows = cursor.fetchall()
        return [
            (name, sql) for name, on, sql in rows
            if on.lower() == table.lower() or names_table.search(sql)
        ]
