from __future__ import annotations

from django.apps import AppConfig


class ServersConfig(AppConfig):
    name = "servers"

    def ready(self) -> None:
        from servers.services import organization_key_create
        from tenancy.services.orgs import ORGANIZATION_CREATED_HOOKS

        # Every new organization gets its SSH key pair inside the creating transaction.
        if organization_key_create not in ORGANIZATION_CREATED_HOOKS:
            ORGANIZATION_CREATED_HOOKS.append(organization_key_create)
