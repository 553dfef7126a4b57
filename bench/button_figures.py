"""The pure arithmetic of the button-path and worker-cost sections (bench/button.py).

No Django, no processes: moments in, figures out, so tests/bench/ can check them directly.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping

# The parts of one click → "succeeded", in the order they happen.
PARTS = ("post", "pickup", "pipeline", "finish")


def split(moments: Mapping[str, float]) -> dict[str, float]:
    """One run's seconds: the whole click → succeeded frame, and its parts.

    `moments` are wall-clock seconds of one machine: `sent` (the POST left the client),
    `returned` (its answer arrived), `started` (the worker claimed the row: started_at),
    `pipeline_done` (the last step's finished_at) and `frame` (the succeeded status frame
    arrived on the socket). Pick-up is measured from the POST's answer, so it is negative
    when the worker claimed the row before the answer reached the client (the task is sent
    on commit, before the response is written).
    """
    sent, returned = moments["sent"], moments["returned"]
    started, done, frame = moments["started"], moments["pipeline_done"], moments["frame"]
    return {
        "total": frame - sent,
        "post": returned - sent,
        "pickup": started - returned,
        "pipeline": done - started,
        "finish": frame - done,
    }


def medians(runs: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """The median of each figure over `runs` (each a `split` result), and `n`."""
    runs = list(runs)
    if not runs:
        return {"n": 0}
    return {"n": len(runs), **{key: statistics.median(r[key] for r in runs) for key in runs[0]}}


def cpu_seconds(usage: Mapping[str, float]) -> float:
    """User + system seconds of one `bench_rusage` answer (bench/worker_probe.py)."""
    return usage["user"] + usage["system"]


def cpu_between(before: Mapping[str, float], after: Mapping[str, float], *, probes: int,
                probe_cost: float) -> float:
    """CPU seconds the worker spent between two rusage answers, less the `probes` probes
    answered in between (each costs the worker `probe_cost` seconds itself)."""
    return cpu_seconds(after) - cpu_seconds(before) - probes * probe_cost


def probe_cost(answers: list[Mapping[str, float]]) -> float:
    """A probe's own CPU cost: the median step between back-to-back rusage answers."""
    steps = [cpu_seconds(b) - cpu_seconds(a) for a, b in zip(answers, answers[1:], strict=False)]
    return statistics.median(steps) if steps else 0.0
