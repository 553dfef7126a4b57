"""Every payload sent on the channel layer about deployments, and the groups they go to.

Groups: `deployment-<id>` (log batches, step and status changes of one deployment; the sink
sends batches and step statuses bundled, `deployment.events`) and
`org-<org_id>` (status changes of every deployment of the organization, for lists/badges).
The `type` maps to a consumer handler name (`log.batch` -> `log_batch`).

Log lines travel already encoded as the browser gets them (`encode_line`): the sink encodes
each line once, and every socket of every daphne only joins the encoded lines into frames,
however many browsers watch.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Literal, TypedDict

from channels.layers import get_channel_layer

from deployments.ansi import frame_segments
from deployments.send_loop import run_on_send_loop

logger = logging.getLogger(__name__)

Row = tuple[int, str, str, str, float]  # seq, server, stream, text, unix ts
_quote = json.encoder.encode_basestring_ascii  # what json.dumps uses for a str (in C)


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
    """Lines seq `first_seq`, `first_seq` + 1, … (a batch is gapless), each as `encode_line`."""

    type: Literal["log.batch"]
    deployment_id: int
    first_seq: int
    lines: list[str]


class StepStatusEvent(TypedDict):
    type: Literal["step.status"]
    deployment_id: int
    step: str
    server: str
    status: str  # running | succeeded | failed | skipped | cancelled
    exit_code: int | None
    duration: str  # "42s" once finished (models.format_duration), "" while running
    last_seq: int  # every line up to this seq is stored (a socket reads back what it missed)


class DeploymentEventsEvent(TypedDict):
    """Several log batches and step statuses of one deployment in one channel-layer message,
    in the order they happened (the sink's sender, deployments/sink.py); a socket handles
    each as if it came alone (deployments/consumers.py)."""

    type: Literal["deployment.events"]
    deployment_id: int
    events: list[dict]


class DeploymentStatusEvent(TypedDict):
    type: Literal["deployment.status"]
    deployment_id: int
    site_id: int
    status: str
    release: str
    commit: str
    failed_step: str
    error: str


def live_line(seq: int, server: str, stream: str, text: str, ts: float) -> LiveLinePayload:
    """A log line as the browser gets it: its text as coloured segments (deployments/ansi.py)."""
    return LiveLinePayload(seq=seq, server=server, stream=stream,
                           segments=frame_segments(text), ts=ts)


def encode_line(seq: int, server: str, stream: str, text: str, ts: float) -> str:
    """`live_line` as JSON (ASCII only, so its length is its size in a frame). Built by hand
    for plain lines, the common case: json.dumps of a dict per line was the biggest per-line
    cost left on the live path (bench/livelog.py)."""
    if "\x1b" in text or not text:
        return json.dumps(live_line(seq, server, stream, text, ts))
    return (f'{{"seq":{seq:d},"server":{_quote(server)},"stream":{_quote(stream)},'
            f'"segments":[["",{_quote(text)}]],"ts":{float(ts)!r}}}')


def log_batch_event(deployment_id: int, batch: list[Row]) -> LogBatchEvent:
    """The broadcast of a gapless batch of numbered lines."""
    lines = [encode_line(*row) for row in batch]
    first = batch[0][0] if lines else 0
    return LogBatchEvent(type="log.batch", deployment_id=deployment_id, first_seq=first,
                         lines=lines)


# At most this many lines in one channel-layer message (of joined batches or a bundle).
BUNDLE_LINES = 2_000


def bundle(deployment_id: int, queued: list[dict]) -> list[dict]:
    """`queued` events (log batches, step statuses) as few channel-layer messages, in order:
    consecutive batches joined (each follows the one before it seq for seq), then several
    events at once as one `deployment.events`. Each send costs the worker four Redis round
    trips (channels_redis's group_send), and a deploy queued ~40 of them, mostly step
    statuses (docs/benchmarks.md, "Worker cost per deployment")."""
    messages: list[list[dict]] = [[]]
    lines = 0
    for event in _joined(queued):
        size = len(event.get("lines", ()))
        if messages[-1] and lines + size > BUNDLE_LINES:
            messages.append([])
            lines = 0
        messages[-1].append(event)
        lines += size
    return [
        group[0] if len(group) == 1 else
        DeploymentEventsEvent(type="deployment.events", deployment_id=deployment_id, events=group)
        for group in messages if group
    ]


def _joined(queued: list[dict]) -> list[dict]:
    out: list[dict] = []
    for event in queued:
        last = out[-1] if out else None
        if (event["type"] == "log.batch" and last is not None and last["type"] == "log.batch"
                and last["first_seq"] + len(last["lines"]) == event["first_seq"]
                and len(last["lines"]) + len(event["lines"]) <= BUNDLE_LINES):
            out[-1] = {**last, "lines": last["lines"] + event["lines"]}
        else:
            out.append(event)
    return out


def log_frame(lines: list[str]) -> str:
    """One WebSocket text frame of encoded lines (what static/js/livelog.js reads)."""
    return '{"type":"log.batch","lines":[' + ",".join(lines) + "]}"


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


# The longest a synchronous caller waits for a status broadcast: Redis's connect timeout
# (deploynix/settings.py CHANNEL_LAYERS, 5 s) and then some.
STATUS_SEND_TIMEOUT = 10.0


def _status_groups(deployment) -> tuple[str, str]:
    return deployment_group(deployment.pk), org_group(deployment.organization_id)


async def send_status(deployment) -> None:
    """Broadcast a deployment's status to its own group and its organization's group."""
    await _send_to_groups(_status_groups(deployment), status_event(deployment))


def send_status_sync(deployment) -> None:
    """`send_status` for synchronous code (services, after commit), on the process's send loop
    (deployments/send_loop.py), which keeps its Redis connection from one status to the next."""
    groups, event = _status_groups(deployment), status_event(deployment)
    try:
        run_on_send_loop(_send_to_groups, groups, event, timeout=STATUS_SEND_TIMEOUT)
    except FutureTimeout:
        logger.warning("broadcasting %s of deployment %s took over %gs; given up",
                       event["status"], deployment.pk, STATUS_SEND_TIMEOUT)


async def _send_to_groups(groups: tuple[str, ...], event: dict) -> None:
    for group in groups:
        await _send(group, event)


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
