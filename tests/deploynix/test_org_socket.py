"""ws/orgs/<slug>/: status changes of the organization's deployments, for members only."""

from __future__ import annotations

import pytest

from deployments.events import send_status
from tenancy.consumers import CLOSE_ACCESS_REVOKED
from tests.deployments.live.conftest import remove_membership
from tests.fixtures.live import make_deployment

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def deployment(transactional_db, cast):
    """A running deployment of the cast's organization."""
    return make_deployment(cast.org)


async def test_it_streams_status_changes_to_a_member(cast, deployment, ws_open):
    socket, _ = await ws_open(cast.viewer, "/ws/orgs/acme/")
    deployment.status = "failed"
    await send_status(deployment)
    frame = await socket.receive_json_from(timeout=5)
    assert (frame["deployment_id"], frame["status"]) == (deployment.pk, "failed")


@pytest.mark.parametrize("who", ["outsider", "anonymous"])
async def test_it_refuses_non_members_without_a_frame(cast, who, ws_open):
    socket, connected = await ws_open(cast.user(who), "/ws/orgs/acme/")
    assert connected is False
    assert await socket.receive_nothing(timeout=0.5)


async def test_it_closes_when_the_member_is_removed(cast, ws_open):
    socket, _ = await ws_open(cast.manager, "/ws/orgs/acme/")
    await remove_membership(cast, cast.manager)
    closed = await socket.receive_output(timeout=10)
    assert closed["code"] == CLOSE_ACCESS_REVOKED
