"""A deployment's stored log has a byte cap that keeps the head and every step's last lines.

The policy alone (deployments/log_cap.py, pure), then through DeploymentSink on the real
database: seqs stay gapless, a marker line says what was omitted, the end of each step survives.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone

from deployments.log_cap import MIN_TAIL_BYTES, LogCap
from deployments.models import Deployment, LogLine, Status
from deployments.sink import DeploymentSink

CAP = 200_000
LINE = "x" * 99  # 100 bytes with its newline


def flood(cap: LogCap, count: int, server: str = "web-1") -> list:
    kept = []
    for n in range(count):
        kept += cap.admit((server, "out", f"{LINE[:-6]}{n:06d}", float(n)))
    return kept


def test_it_keeps_lines_as_they_come_until_half_the_cap():
    cap = LogCap(CAP)
    assert len(flood(cap, 1_000)) == 1_000  # 100 kB, the head


def test_past_the_head_it_holds_lines_and_says_so_once():
    cap = LogCap(CAP)
    kept = flood(cap, 5_000)
    assert len(kept) == 1_000 + 1
    assert "limit" in kept[-1][2] and kept[-1][1] == "info"


def test_a_step_boundary_releases_a_marker_then_the_last_lines():
    cap = LogCap(CAP)
    flood(cap, 5_000)
    released = cap.release("web-1")
    assert released[0][2].startswith("… ") and " lines (" in released[0][2]
    assert released[-1][2].endswith("004999")
    assert cap.kept_bytes <= CAP


def test_every_later_step_keeps_its_last_lines_within_the_cap():
    cap = LogCap(CAP)
    for step in range(20):
        flood(cap, 3_000)
        assert cap.release("web-1")[-1][2].endswith("002999"), step
    assert cap.kept_bytes <= CAP + 20 * MIN_TAIL_BYTES


def test_parallel_servers_each_keep_their_own_tail():
    cap = LogCap(CAP)
    flood(cap, 3_000, "web-1")
    flood(cap, 3_000, "web-2")
    released = cap.release()
    assert {entry[0] for entry in released} == {"web-1", "web-2"}
    assert cap.kept_bytes <= CAP + MIN_TAIL_BYTES  # the second tail got the minimum


@pytest.fixture
def running(site):
    return Deployment.objects.create(
        site=site, organization=site.organization, branch="main", status=Status.RUNNING,
        started_at=timezone.now(), heartbeat_at=timezone.now(),
    )


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_the_sink_stores_a_capped_gapless_log_with_each_steps_end(running):
    sink = DeploymentSink(deployment_id=running.pk, max_log_bytes=CAP)
    for step in ("install", "build"):
        await sink.step_started(step, "web-1")
        for n in range(5_000):
            await sink.line("web-1", "out", f"{step} {n:05d} {LINE[:80]}", 1.0)
        await sink.step_finished(step, "web-1", "succeeded", 0)
    await sink.close()
    rows = await sync_to_async(list)(
        LogLine.objects.filter(deployment=running).order_by("seq").values_list("seq", "text")
    )
    await sync_to_async(connections.close_all)()
    seqs, texts = zip(*rows, strict=True)
    assert seqs == tuple(range(1, len(seqs) + 1))
    assert sum(len(text) + 1 for text in texts) <= CAP + 2 * MIN_TAIL_BYTES
    assert sum(" omitted …" in text for text in texts) == 2
    assert {"install 04999", "build 04999"} <= {text.rsplit(" ", 1)[0] for text in texts}
