from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    # The label the models were created under: keeps migrations, tables and AUTH_USER_MODEL.
    label = "deploynix"
    verbose_name = "Tenancy"
