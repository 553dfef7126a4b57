from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    # The label the models were created under: keeps migrations, tables and AUTH_USER_MODEL.
    label = "deploynix"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from tenancy.sessions import on_user_logged_in, on_user_logged_out

        user_logged_in.connect(on_user_logged_in, dispatch_uid="tenancy-session-record")
        user_logged_out.connect(on_user_logged_out, dispatch_uid="tenancy-session-forget")
