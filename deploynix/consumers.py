"""`ws/orgs/<slug>/`: the dashboard's live feed of the organization's deployment status changes."""

from __future__ import annotations

from channels.db import database_sync_to_async

from deployments.events import org_group
from tenancy.consumers import MemberSocket, viewer_membership


class OrgStatusConsumer(MemberSocket):
    """`ws/orgs/<slug>/`: status changes of every deployment of the organization."""

    async def open(self) -> bool:
        slug = self.scope["url_route"]["kwargs"]["org"]
        membership = await database_sync_to_async(viewer_membership)(self.scope["user"], slug)
        if membership is None:
            return False
        await self.join(org_group(membership.organization_id))
        if not await self.accept_member(membership.organization_id):
            return True  # accepted and closed: too many sockets
        self.watch_access(slug)
        return True

    async def deployment_status(self, event: dict) -> None:
        await self.send_json(event)
