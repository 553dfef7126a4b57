from __future__ import annotations

from django.apps import AppConfig


class ServersConfig(AppConfig):
    name = "servers"

    def ready(self) -> None:
        from servers.services import organization_key_create
        from servers.signals import server_check_requested
        from servers.tasks import send_check
        from tenancy.services.orgs import ORGANIZATION_CREATED_HOOKS

        # Every new organization gets its SSH key pair inside the creating transaction.
        if organization_key_create not in ORGANIZATION_CREATED_HOOKS:
            ORGANIZATION_CREATED_HOOKS.append(organization_key_create)
        # A check asked for by the services is queued by the task module.
        server_check_requested.connect(send_check, dispatch_uid="servers.send_check")
