"""Every payload sent on the channel layer about deployments, and the groups they go to.

Groups: `deployment-<id>` (log batches, step and status changes of one deployment) and
`org-<org_id>` (status changes of every deployment of the organization, for lists/badges).
The `type` maps to a consumer handler name (`log.batch` -> `log_batch`).
"""

from __future__ import annotations

import logging
from typing import Literal, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


class LogLinePayload(TypedDict):
    seq: int
    server: str
    stream: str  # out | err | info
    text: str
    ts: float  # unix time


class LiveLinePayload(TypedDict):
    """A log line as the live log socket sends it to browsers (deployments/consumers.py): the
    text already split into coloured segments by deployments/ansi.py, so the page parses nothing."""

    seq: int
    server: str
    stream: str
    segments: list[list[str]]  # [[classes, text], ...]; classes "" when uncoloured
    ts: float


class LogBatchEvent(TypedDict):
    type: Literal["log.batch"]
    deployment_id: int
    lines: list[LogLinePayload]


class StepStatusEvent(TypedDict):
    type: Literal["step.status"]
    deployment_id: int
    step: str
    server: str
    status: str  # running | succeeded | failed | skipped | cancelled
    exit_code: int | None
    duration: str  # "42s" once finished (models.format_duration), "" while running


class DeploymentStatusEvent(TypedDict):
    type: Literal["deployment.status"]
    deployment_id: int
    site_id: int
    status: str
    release: str
    commit: str
    failed_step: str
    error: str


def deployment_group(deployment_id: int) -> str:
    return f"deployment-{deployment_id}"


def org_group(organization_id: int) -> str:
    return f"org-{organization_id}"


def status_event(deployment) -> DeploymentStatusEvent:
    """The status payload for a Deployment row."""
    return DeploymentStatusEvent(
        type="deployment.status",
        deployment_id=deployment.pk,
        site_id=deployment.site_id,
        status=deployment.status,
        release=deployment.release,
        commit=deployment.commit_sha,
        failed_step=deployment.failed_step,
        error=deployment.error,
    )


async def send_status(deployment) -> None:
    """Broadcast a deployment's status to its own group and its organization's group."""
    event = status_event(deployment)
    await _send(deployment_group(deployment.pk), event)
    await _send(org_group(deployment.organization_id), event)


def send_status_sync(deployment) -> None:
    """`send_status` for synchronous code (services, after commit)."""
    async_to_sync(send_status)(deployment)


async def _send(group: str, event: dict) -> None:
    # Live updates are a convenience: the database already holds the truth, and a
    # browser that missed an event reloads it. A Redis hiccup must not fail a deploy.
    try:
        await get_channel_layer().group_send(group, event)
    except Exception:
        logger.exception("could not broadcast %s to %s", event.get("type"), group)


async def send(group: str, event: dict) -> None:
    """Broadcast `event` to `group`, logging (not raising) on channel-layer failure."""
    await _send(group, event)
