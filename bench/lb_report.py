"""The load-balancer section of docs/benchmarks.md (scenario `lb-rolling`, bench/lb_rolling.py)."""

from __future__ import annotations

import statistics

from bench.lb_rolling import LbRolling, MethodRun
from bench.report import _gaps, failed_requests, verdict
from bench.timing import Run

TARGET_REQUESTS = 1_000_000
# Steps of a rolling deploy from the first drain to the last enable (deployments/pipeline).
ROLL_STEPS = ("drain", "activate", "reload", "health_check_live", "enable")


def methods_table(lb: LbRolling) -> str:
    rows = [
        "| method | deploys + rollbacks | requests | failed: non-2xx / socket / no release in "
        "body / stale | answered per backend | retried by the balancer | "
        "p50 / p99 outside switches (ms) | p50 / p99 during switches (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows += [_method_row(run) for run in lb.methods]
    return "\n".join(rows)


def _method_row(run: MethodRun) -> str:
    r, s = run.result, run.result.stats
    idle = _gaps(r.windows, s.samples)
    shares = " · ".join(f"{count / max(1, sum(run.per_backend.values())):.0%}"
                        for _, count in sorted(run.per_backend.items()))
    return (
        f"| {run.method} | {r.switches} | {s.total:,} | **{failed_requests(r)}**: {s.non_2xx} / "
        f"{s.socket_errors} / {s.truncated} / {r.stale} | {shares} | {run.retried} | "
        f"{s.percentile(0.5, idle):.1f} / {s.percentile(0.99, idle):.1f} | "
        f"{s.percentile(0.5, r.windows):.1f} / {s.percentile(0.99, r.windows):.1f} |"
    )


def gates_table(lb: LbRolling) -> str:
    rows = [
        "| method | release | deployment | switched anywhere | live afterwards (every host) | "
        "as required |",
        "|---|---|---|---|---|---|",
    ]
    for run in lb.methods:
        for gate in run.gates:
            live = ", ".join(sorted(set(gate.live_after.values())))
            same = "the release before" if live == gate.live_before else f"**{live}**"
            error = " ".join(gate.error.split())[:90].replace("|", "\\|")
            rows.append(
                f"| {run.method} | {gate.kind} | {gate.status}: {error} | "
                f"{'yes' if gate.switched else 'no'} | {same} | {verdict(gate.ok)} |"
            )
    return "\n".join(rows)


def hosts_table(lb: LbRolling) -> str:
    rows = [
        "| hosts | runs | median rolling deploy (s) | min / max (s) | preparation, all hosts "
        "in parallel (s) | roll: drain, switch, reload, probe, enable, host by host (s) | "
        "roll per host (s) | median rolling rollback (s) | not succeeded |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for count, runs in lb.host_counts.items():
        seconds = [run.seconds for run in runs]
        prepare, roll = _phases(sorted(runs, key=lambda run: run.seconds)[len(runs) // 2])
        back = [run.seconds for run in lb.host_rollbacks.get(count, [])]
        rows.append(
            f"| {count} | {len(runs)} | {statistics.median(seconds):.2f} | {min(seconds):.2f} / "
            f"{max(seconds):.2f} | {prepare:.2f} | {roll:.2f} | {roll / count:.2f} | "
            f"{statistics.median(back) if back else float('nan'):.2f} | "
            f"{_unsucceeded(runs + lb.host_rollbacks.get(count, []))} |"
        )
    return "\n".join(rows)


def _unsucceeded(runs: list[Run]) -> str:
    failed = [run for run in runs if run.status != "succeeded"]
    error = " ".join(failed[0].error.split())[:80].replace("|", "\\|") if failed else ""
    return f"**{len(failed)}**: {error}" if failed else "0"


def _phases(run: Run) -> tuple[float, float]:
    """Seconds before the first drain (or switch), and from there to the last enable."""
    spans = run.sink.spans
    rolled = [spans[step] for step in ROLL_STEPS if step in spans]
    if not spans or not rolled:
        return float("nan"), float("nan")
    first = min(start for start, _ in spans.values())
    start, end = min(a for a, _ in rolled), max(b for _, b in rolled)
    return start - first, end - start


def summary(lb: LbRolling) -> str:
    failed = sum(failed_requests(run.result) for run in lb.methods)
    gates = [gate for run in lb.methods for gate in run.gates]
    deploys = [f for run in lb.methods for f in run.result.failures]
    ok = failed == 0 and lb.requests >= TARGET_REQUESTS
    each = ", ".join(f"{run.method} {run.result.stats.total:,}" for run in lb.methods)
    return (
        f"Through the panel's balancer, all methods together: **{failed} failed of "
        f"{lb.requests:,} requests** ({each}) — target 0 failed over ≥ 1,000,000: "
        f"{verdict(ok)}. Broken releases: {sum(g.ok for g in gates)} of {len(gates)} ended as "
        f"required (never switched / rolled back everywhere). Deploys or rollbacks that did not "
        f"end as expected: {len(deploys)}."
        + "".join(f"\n- {' '.join(f.split())[:300]}" for f in deploys[:5])
    )


def section(lb: LbRolling) -> str:
    return "\n\n".join([
        methods_table(lb), summary(lb), gates_table(lb),
        f"Time per rolling deploy through a round-robin balancer (drain "
        f"{lb.count_drain_seconds:g} s, the product's default; batch 1; no load):",
        hosts_table(lb),
    ])
