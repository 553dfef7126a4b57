"""Django's SQLite backend, with a schema editor that keeps the database's triggers through the
table rebuilds SQLite needs for most schema changes (schema.py). settings.py names it as the
ENGINE of every SQLite database."""
