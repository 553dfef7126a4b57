"""10,000 log lines a second through the real pipeline: none lost, stored in batches, streamed once.

A deploy script on the real sshd test host prints 30,000 numbered lines, 100 every 10 ms. A real
Celery worker runs the deploy, so the lines travel asyncssh → DeploymentSink → PostgreSQL (COPY)
→ Redis channel layer → a real daphne → a WebSocket client here, while this test also loads the
deployment page over HTTP. The number of batches is read from PostgreSQL itself: every flush is
one transaction, and every row remembers the transaction that inserted it (`xmin`).
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import websocket
from django.db import connection

from deployments.models import Deployment, LogLine, Status
from tests.fixtures.live import ORIGIN, session_cookie
from tests.fixtures.stage import Stage, finished, make_stage, wait_until

pytestmark = [
    pytest.mark.ssh, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True),
]
LINES = 30_000
# 300 blocks of 100 lines, one block every 10 ms: 10,000 lines a second for three seconds.
FLOOD = r"""python3 -c '
import sys, time
start = time.monotonic()
for block in range(300):
    first = block * 100 + 1
    sys.stdout.write("".join("line %05d\n" % n for n in range(first, first + 100)))
    sys.stdout.flush()
    time.sleep(max(0.0, start + (block + 1) / 100 - time.monotonic()))
'"""
NUMBERED = re.compile(r"line \d{5}")
FINISHED = ("succeeded", "failed", "cancelled")


@pytest.fixture
def stage(cast, sshd_host, tmp_path: Path, celery_worker_process) -> Stage:
    stage = make_stage(cast, sshd_host, tmp_path, deploy_script=FLOOD)
    stage.release("1.0.0")
    return stage


def flood(stage: Stage) -> Deployment:
    """Run the flooding deploy through the worker; return the finished, successful row."""
    [deployment] = finished(stage.deploy(), timeout=180)
    assert deployment.status == Status.SUCCEEDED, deployment.error
    return deployment


def insert_transactions(deployment: Deployment) -> list[list[int]]:
    """The seqs of the deployment's lines grouped by the transaction that inserted them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(seq ORDER BY seq) FROM deployments_logline"
            " WHERE deployment_id = %s GROUP BY xmin::text ORDER BY min(seq)",
            [deployment.pk],
        )
        return [row[0] for row in cursor.fetchall()]


def test_it_stores_every_line_of_a_10k_per_second_flood_in_order(stage):
    deployment = flood(stage)
    rows = LogLine.objects.filter(deployment=deployment).order_by("seq")
    seqs, texts = zip(*rows.values_list("seq", "text"), strict=True)
    assert seqs == tuple(range(1, len(seqs) + 1))  # gapless
    numbered = [text for text in texts if NUMBERED.fullmatch(text)]
    assert numbered == [f"line {n:05d}" for n in range(1, LINES + 1)]


def test_it_persists_the_flood_in_batches_of_consecutive_lines(stage):
    batches = insert_transactions(flood(stage))
    assert len(batches) < LINES / 50, f"{len(batches)} inserts for {LINES} lines"
    assert all(batch == list(range(batch[0], batch[-1] + 1)) for batch in batches)


class SocketReader(threading.Thread):
    """Reads the deployment's live log socket on the real daphne until the deployment ends."""

    def __init__(self, url: str, cookie: str) -> None:
        super().__init__(daemon=True)
        self.socket = websocket.create_connection(url, cookie=cookie, origin=ORIGIN.decode(),
                                                  timeout=120)
        self.seqs: list[int] = []
        self.error: Exception | None = None  # why it stopped early, for the assertion message

    def run(self) -> None:
        try:
            while True:
                frame = json.loads(self.socket.recv())
                if frame["type"] == "log.batch":
                    self.seqs.extend(line["seq"] for line in frame["lines"])
                elif frame["type"] == "deployment.status" and frame["status"] in FINISHED:
                    return
        except Exception as exc:  # noqa: BLE001 — reported by the test, not lost in a thread
            self.error = exc
        finally:
            self.socket.close()


def ws_url(http_url: str, deployment: Deployment) -> str:
    return http_url.replace("http://", "ws://") + f"/ws/deployments/{deployment.pk}/?after=0"


def get_page(url: str, cookie: str) -> tuple[int, float]:
    """GET `url` with the session cookie; (status, seconds it took)."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()
        return response.status, time.monotonic() - started


def test_it_streams_each_line_once_and_serves_the_page_during_the_flood(
    stage, cast, daphne_server
):
    cookie = session_cookie(cast.developer)
    deployment = stage.deploy()
    page = f"{daphne_server.url}/o/acme/deployments/{deployment.pk}/"
    get_page(page, cookie)  # a fresh daphne's first request loads views and templates
    reader = SocketReader(ws_url(daphne_server.url, deployment), cookie)
    reader.start()
    lines = LogLine.objects.filter(deployment=deployment)
    wait_until(lambda: lines.filter(text="line 01000").exists(), 60, "the flood to start")
    answers = []
    while not lines.filter(text=f"line {LINES:05d}").exists():  # for as long as it floods
        answers.append(get_page(page, cookie))
    reader.join(180)
    assert reader.seqs == list(range(1, lines.count() + 1)), reader.error  # once each, in order
    assert answers and [status for status, _ in answers] == [200] * len(answers)
    assert max(seconds for _, seconds in answers) < 5
