"""A real deploy step that prints more than the log cap: the stored log stays within it.

The deploy script on the real sshd test host prints ~600 kB; the Celery worker runs with a
200 kB cap. Stored: the head, a marker line with what was omitted, the step's last lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deployments.log_cap import MIN_TAIL_BYTES
from deployments.models import LogLine, Status
from tests.fixtures.stage import Stage, finished, make_stage

pytestmark = [
    pytest.mark.ssh, pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True),
]
CAP = 200_000
LOUD = r"""python3 -c '
for n in range(30000):
    print("build output line %05d" % n)
print("the last line of the build")
'"""


@pytest.fixture
def small_log_cap(live_server_env, monkeypatch):
    monkeypatch.setitem(live_server_env, "DEPLOYNIX_LOG_MAX_BYTES", str(CAP))


@pytest.fixture
def stage(cast, sshd_host, tmp_path: Path, small_log_cap, celery_worker_process) -> Stage:
    stage = make_stage(cast, sshd_host, tmp_path, deploy_script=LOUD)
    stage.release("1.0.0")
    return stage


def test_a_loud_step_is_stored_capped_with_a_marker_and_its_last_lines(stage):
    [deployment] = finished(stage.deploy(), timeout=180)
    assert deployment.status == Status.SUCCEEDED, deployment.error
    rows = LogLine.objects.filter(deployment=deployment).order_by("seq")
    seqs, texts = zip(*rows.values_list("seq", "text"), strict=True)
    assert seqs == tuple(range(1, len(seqs) + 1))  # gapless: the marker explains the hole
    stored = sum(len(text.encode()) + 1 for text in texts)
    assert stored <= CAP + MIN_TAIL_BYTES  # of ~690 kB printed
    [marker] = [text for text in texts if text.endswith(" omitted …")]
    assert "build output line 29999" in texts and "the last line of the build" in texts
    assert "build output line 00000" in texts  # the head too
    assert marker.startswith("… ")
