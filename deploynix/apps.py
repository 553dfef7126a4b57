from django.apps import AppConfig


class ShellConfig(AppConfig):
    """The project shell (settings, urls, dashboard, demo); installed for its commands."""

    name = "deploynix"
    # "deploynix" is the tenancy core's label (tenancy/apps.py).
    label = "shell"
    verbose_name = "Deploynix"
