# ruff: noqa: S608 - fixed DDL built from constants of this file, no user input
"""A site may only run on servers of its own organization, enforced by the database.

Django has no cross-table check constraint, so triggers (PostgreSQL and SQLite) refuse a row of
the site<->server link whose two ends belong to different organizations, and refuse moving a
linked site or server to another organization. A planted link (raw SQL, a bad admin action, a
bug in a service) fails with an IntegrityError instead of letting a deploy log in to another
organization's server with that organization's key.
"""

from django.db import migrations

MESSAGE = "a site and its servers must belong to the same organization"

POSTGRES_FORWARD = f"""
CREATE OR REPLACE FUNCTION deploynix_site_server_same_org() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM sites_site s, servers_server v
        WHERE s.id = NEW.site_id AND v.id = NEW.server_id
          AND s.organization_id <> v.organization_id
    ) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER site_servers_same_org BEFORE INSERT OR UPDATE ON sites_site_servers
    FOR EACH ROW EXECUTE FUNCTION deploynix_site_server_same_org();

CREATE OR REPLACE FUNCTION deploynix_site_org_keeps_servers() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM sites_site_servers l JOIN servers_server v ON v.id = l.server_id
        WHERE l.site_id = NEW.id AND v.organization_id <> NEW.organization_id
    ) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER site_org_keeps_servers BEFORE UPDATE OF organization_id ON sites_site
    FOR EACH ROW EXECUTE FUNCTION deploynix_site_org_keeps_servers();

CREATE OR REPLACE FUNCTION deploynix_server_org_keeps_sites() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM sites_site_servers l JOIN sites_site s ON s.id = l.site_id
        WHERE l.server_id = NEW.id AND s.organization_id <> NEW.organization_id
    ) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER server_org_keeps_sites BEFORE UPDATE OF organization_id ON servers_server
    FOR EACH ROW EXECUTE FUNCTION deploynix_server_org_keeps_sites();
"""

POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS site_servers_same_org ON sites_site_servers;
DROP TRIGGER IF EXISTS site_org_keeps_servers ON sites_site;
DROP TRIGGER IF EXISTS server_org_keeps_sites ON servers_server;
DROP FUNCTION IF EXISTS deploynix_site_server_same_org();
DROP FUNCTION IF EXISTS deploynix_site_org_keeps_servers();
DROP FUNCTION IF EXISTS deploynix_server_org_keeps_sites();
"""

# RAISE(ABORT, ...) fails the statement with SQLITE_CONSTRAINT: an IntegrityError in Python.
_SQLITE_LINK_CHECK = f"""
    WHEN (SELECT s.organization_id FROM sites_site s WHERE s.id = NEW.site_id)
      <> (SELECT v.organization_id FROM servers_server v WHERE v.id = NEW.server_id)
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
"""
SQLITE_FORWARD = [
    f"CREATE TRIGGER site_servers_same_org_insert BEFORE INSERT ON sites_site_servers "
    f"FOR EACH ROW {_SQLITE_LINK_CHECK}",
    f"CREATE TRIGGER site_servers_same_org_update BEFORE UPDATE ON sites_site_servers "
    f"FOR EACH ROW {_SQLITE_LINK_CHECK}",
    f"""CREATE TRIGGER site_org_keeps_servers BEFORE UPDATE OF organization_id ON sites_site
    FOR EACH ROW WHEN EXISTS (
        SELECT 1 FROM sites_site_servers l JOIN servers_server v ON v.id = l.server_id
        WHERE l.site_id = NEW.id AND v.organization_id <> NEW.organization_id)
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER server_org_keeps_sites BEFORE UPDATE OF organization_id ON servers_server
    FOR EACH ROW WHEN EXISTS (
        SELECT 1 FROM sites_site_servers l JOIN sites_site s ON s.id = l.site_id
        WHERE l.server_id = NEW.id AND s.organization_id <> NEW.organization_id)
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {name}" for name in (
        "site_servers_same_org_insert", "site_servers_same_org_update",
        "site_org_keeps_servers", "server_org_keeps_sites",
    )
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"no same-organization triggers for {schema_editor.connection.vendor}")
        for statement in [statements] if isinstance(statements, str) else statements:
            schema_editor.execute(statement, params=None)
    return run


class Migration(migrations.Migration):
    dependencies = [
        ("sites", "0006_site_secret_env_names"),
        # After every change to the servers table that SQLite makes by rebuilding it: the
        # triggers below name that table, and a rebuild under them fails.
        ("servers", "0003_server_deploy_roots"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
