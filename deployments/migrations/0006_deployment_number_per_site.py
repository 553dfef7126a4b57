"""Number deployments per site: the column, existing rows numbered 1, 2, ... per site in the
order they were requested, then (site, number) unique."""

from django.db import migrations, models

# SQLite would rebuild the whole table for AddField, and the rebuild trips over the triggers
# of sites/migrations/0007_site_servers_same_organization.py; ADD COLUMN needs no rebuild.
SQLITE_ADD = ('ALTER TABLE deployments_deployment ADD COLUMN "number" integer unsigned '
              'NOT NULL DEFAULT 0 CHECK ("number" >= 0)')
SQLITE_DROP = 'ALTER TABLE deployments_deployment DROP COLUMN "number"'


def add_column(apps, schema_editor):
    Deployment = apps.get_model("deployments", "Deployment")
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_ADD)
    else:
        schema_editor.add_field(Deployment, Deployment._meta.get_field("number"))


def drop_column(apps, schema_editor):
    Deployment = apps.get_model("deployments", "Deployment")
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)
    else:
        schema_editor.remove_field(Deployment, Deployment._meta.get_field("number"))


def number_existing(apps, schema_editor):
    """Number every site's existing deployments 1, 2, ... in the order they were requested."""
    Deployment = apps.get_model("deployments", "Deployment")
    site_ids = Deployment.objects.values_list("site_id", flat=True).distinct()
    for site_id in site_ids.iterator():
        rows = Deployment.objects.filter(site_id=site_id).order_by("id").only("id")
        for number, row in enumerate(rows.iterator(), start=1):
            Deployment.objects.filter(pk=row.pk).update(number=number)


class Migration(migrations.Migration):

    dependencies = [
        ('deployments', '0005_idempotency_keys'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AddField(
                model_name='deployment',
                name='number',
                field=models.PositiveIntegerField(default=0),
            ),
        ]),
        migrations.RunPython(add_column, drop_column),
        migrations.RunPython(number_existing, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='deployment',
            constraint=models.UniqueConstraint(condition=models.Q(('number__gt', 0)), fields=('site', 'number'), name='deployment_number_unique_per_site'),
        ),
    ]
