"""The webhook models now belong to the webhooks app (webhooks/migrations/0001_initial.py).

State only: the tables and their rows stay; only the sites app stops claiming the models.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('sites', '0003_fencing_epoch'),
        ('webhooks', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='WebhookDelivery'),
                migrations.DeleteModel(name='WebhookSecret'),
            ],
            database_operations=[],
        ),
    ]
