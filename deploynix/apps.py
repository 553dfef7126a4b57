from django.apps import AppConfig


class DeploynixConfig(AppConfig):
    name = "deploynix"
    verbose_name = "Deploynix"
