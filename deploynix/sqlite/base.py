"""The database wrapper Django loads for ENGINE "deploynix.sqlite": Django's own, with our
schema editor."""

from __future__ import annotations

from django.db.backends.sqlite3 import base

from .schema import DatabaseSchemaEditor


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
