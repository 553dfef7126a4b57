"""The live-log socket follows the organization's two-factor rule, like the pages do."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from tenancy.audit import Actor
from tenancy.services.two_factor import totp_pending, two_factor_enable
from tests.tenancy.otp import totp_code

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _require_two_factor(cast) -> None:
    cast.org.require_two_factor = True
    cast.org.save(update_fields=["require_two_factor"])


def _turn_on_two_factor(user) -> None:
    device = totp_pending(user)
    two_factor_enable(actor=Actor(user=user), user=user, code=totp_code(device.bin_key))


async def test_it_refuses_an_admin_without_the_required_two_factor(cast, deployment, ws_open):
    await sync_to_async(_require_two_factor)(cast)
    _, connected = await ws_open(cast.admin, f"/ws/deployments/{deployment.pk}/")
    assert connected is False


async def test_it_lets_an_admin_with_two_factor_and_a_developer_watch(cast, deployment, ws_open):
    await sync_to_async(_require_two_factor)(cast)
    await sync_to_async(_turn_on_two_factor)(cast.admin)
    _, admin = await ws_open(cast.admin, f"/ws/deployments/{deployment.pk}/")
    _, developer = await ws_open(cast.developer, f"/ws/deployments/{deployment.pk}/")
    assert (admin, developer) == (True, True)
