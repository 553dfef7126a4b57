"""The project's Celery app with one more remote-control command: the worker's own rusage.

The bench starts its worker as `celery -A bench.worker_probe worker …` (deploynix.celery's app,
nothing else changed) so it can ask that very process for `resource.getrusage(RUSAGE_SELF)`
over the broker (`app.control.broadcast("bench_rusage", …)`): CPU seconds with microsecond
resolution, where /proc/<pid>/stat counts 10 ms ticks.
"""

from __future__ import annotations

import resource
from pathlib import Path

from celery.worker.control import control_command

from deploynix.celery import app

__all__ = ["app"]


@control_command()
def bench_rusage(state) -> dict:
    """CPU seconds (user, system) of the whole worker process, its peak and current RSS."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "user": usage.ru_utime,
        "system": usage.ru_stime,
        "maxrss_kib": usage.ru_maxrss,
        "rss_kib": _current_rss_kib(),
    }


def _current_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
