"""The webhook models move here from the sites app; their tables stay where they are.

State only: sites/migrations/0002_webhooks.py created the tables, and
sites/migrations/0004_webhooks_to_own_app.py drops the models from the sites state once they
exist here, so a database migrated before the move keeps its rows untouched.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import tenancy.crypto


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('deployments', '0001_initial'),
        ('sites', '0003_fencing_epoch'),
    ]

    state_operations = [
        migrations.CreateModel(
            name='WebhookSecret',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('secret', tenancy.crypto.EncryptedTextField()),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('rotated_at', models.DateTimeField(blank=True, null=True)),
                ('site', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_secret', to='sites.site')),
            ],
            options={
                'db_table': 'sites_webhooksecret',
            },
        ),
        migrations.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('provider', models.CharField(max_length=20)),
                ('event', models.CharField(blank=True, max_length=100)),
                ('delivery_id', models.CharField(blank=True, max_length=100)),
                ('branch', models.CharField(blank=True, max_length=200)),
                ('commit', models.CharField(blank=True, max_length=64)),
                ('signature_ok', models.BooleanField(default=False)),
                ('decision', models.CharField(choices=[('deployed', 'Deployed'), ('ignored', 'Ignored'), ('refused', 'Refused'), ('duplicate', 'Duplicate')], max_length=10)),
                ('reason', models.CharField(blank=True, max_length=200)),
                ('remote_ip', models.GenericIPAddressField(blank=True, null=True)),
                ('received_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('deployment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='deployments.deployment')),
                ('site', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_deliveries', to='sites.site')),
            ],
            options={
                'db_table': 'sites_webhookdelivery',
                'ordering': ['-received_at', '-id'],
                'indexes': [models.Index(fields=['site', '-received_at'], name='webhook_site_recent')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('decision__in', ['deployed', 'ignored']), ('signature_ok', True)), fields=('site', 'provider', 'delivery_id'), name='webhook_delivery_once')],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[]),
    ]
