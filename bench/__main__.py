"""`python -m bench` (what `make bench` runs): measure, print tables, rewrite docs/benchmarks.md.

Sections run in order and each one's failure is recorded in the document instead of ending
the run: a benchmark should report what it could measure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import traceback
from pathlib import Path

from bench import testbed
from bench.capistrano import Capistrano
from bench.document import keep_unmeasured, render
from bench.faults import FAULTS
from bench.report import Results, load_average
from bench.scenarios import speed, zero_downtime

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
SECTIONS = (
    "zero", "speed", "build", "rolling", "lb-rolling", "fleet", "concurrency", "live", "panel",
    "faults", "button", "worker-cost",
)

# The Results field of a section, where not its name.
SECTION_FIELDS = {"lb-rolling": "lb", "worker-cost": "worker_cost"}


def _record(results: Results, section: str, error: BaseException) -> None:
    traceback.print_exception(error)
    key = SECTION_FIELDS.get(section, section)
    results.errors[key] = f"{type(error).__name__}: {str(error)[:400]}"


async def one_host(args, results: Results, only: set[str]) -> None:
    """Zero downtime (recommended and misconfigured stacks), speed and Capistrano, one host."""
    bed = testbed.build()
    try:
        if "zero" in only:
            try:
                good = bed.add_site("recommended")
                bad = bed.add_site("misconfigured", misconfigured=True)
                results.zero.append(
                    await zero_downtime(
                        bed,
                        good,
                        pairs=args.pairs,
                        label="recommended (Deploynix default), one host",
                        min_requests=args.min_requests // 2,
                    )
                )
                results.zero.append(
                    await zero_downtime(
                        bed,
                        bad,
                        pairs=args.bad_pairs,
                        label="misconfigured ($document_root, process_control_timeout=0), one host",
                    )
                )
            except Exception as error:  # noqa: BLE001 - reported in the document
                _record(results, "zero", error)
        if "speed" in only:
            try:
                cap = Capistrano(bed, bed.add_site("capistrano")) if args.capistrano else None
                results.speed = await speed(
                    bed, bed.add_site("speed"), bed.add_site("floor"), runs=args.runs, cap=cap
                )
            except Exception as error:  # noqa: BLE001
                _record(results, "speed", error)
        if "build" in only:
            try:
                from bench.build import build_speed

                results.build = await build_speed(
                    bed, bed.add_site("build-plain"), bed.add_site("built"),
                    bed.add_site("build-floor"), runs=args.build_runs,
                )
            except Exception as error:  # noqa: BLE001
                _record(results, "build", error)
    finally:
        bed.close()


async def many_hosts(args, results: Results, only: set[str]) -> None:
    """Rolling zero downtime behind a balancer, fleet scaling and concurrency (needs root)."""
    from bench import fleet as fleets
    from bench.lb_rolling import rolling_through_panel_balancer
    from bench.rolling import fleet_scaling, rolling_zero_downtime
    from bench.worker import concurrency_in_worker

    wanted = only & {"rolling", "lb-rolling", "fleet", "concurrency"}
    if not wanted:
        return
    if os.geteuid() != 0:
        for section in wanted:
            key = SECTION_FIELDS.get(section, section)
            results.errors[key] = "needs root for network namespaces (run make bench as root)"
        return
    fleet = fleets.build(max(10, *args.fleet, *args.lb_hosts))
    try:
        for section, run in (
            (
                "rolling",
                lambda: rolling_zero_downtime(
                    fleet,
                    fleet.hosts[:3],
                    pairs=args.rolling_pairs,
                    min_requests=args.min_requests // 2,
                ),
            ),
            (
                "lb-rolling",
                lambda: rolling_through_panel_balancer(
                    fleet, fleet.hosts[:3], pairs=args.lb_pairs, min_requests=args.lb_requests,
                    counts=tuple(args.lb_hosts), runs=args.lb_runs,
                ),
            ),
            ("fleet", lambda: fleet_scaling(fleet, tuple(args.fleet), runs=args.fleet_runs)),
            (
                "concurrency",
                lambda: asyncio.to_thread(concurrency_in_worker, fleet, args.concurrent),
            ),
        ):
            if section not in only:
                continue
            try:
                value = await run()
            except Exception as error:  # noqa: BLE001
                _record(results, section, error)
                continue
            if section == "rolling":
                results.zero.append(value)
            else:
                setattr(results, SECTION_FIELDS.get(section, section), value)
    finally:
        fleet.close()


def django_side(args, results: Results, only: set[str]) -> None:
    """Live log (real daphne) and panel timings, in child processes on a private database."""
    if not only & {"live", "panel", "button", "worker-cost"}:
        return
    from bench.django_env import DjangoEnv

    env = DjangoEnv.create()
    try:
        if "live" in only:
            try:
                env.start_daphne()
                results.live = env.run_json("bench.livelog", str(env.daphne_port), *args.live)
                results.live["daphne_refused_large"] = env.daphne_log().count(
                    "PayloadExceededError"
                )
            except Exception as error:  # noqa: BLE001
                _record(results, "live", error)
        if "panel" in only:
            try:
                results.panel = env.run_json("bench.panel", str(args.panel_deployments))
            except Exception as error:  # noqa: BLE001
                _record(results, "panel", error)
        buttons(args, results, only, env)
    finally:
        env.close()


def buttons(args, results: Results, only: set[str], env) -> None:
    """The Deploy/Rollback buttons through daphne and a real Celery worker, and that worker's
    cost per deployment: one child process (bench/button.py) measures both."""
    wanted = only & {"button", "worker-cost"}
    if not wanted:
        return
    try:
        if env.daphne is None:
            env.start_daphne()
        together = args.concurrent if "worker-cost" in only else 0
        measured = env.run_json(
            "bench.button", str(env.daphne_port), str(args.button_runs), str(together)
        )
    except Exception as error:  # noqa: BLE001
        for section in wanted:
            _record(results, section, error)
        return
    if "button" in only:
        results.button = measured
    if "worker-cost" in only:
        results.worker_cost = measured


def fault_drills(args, results: Results, only: set[str]) -> None:
    """Deploys under load with one fault each (bench/faults.py), in a child process."""
    if "faults" not in only:
        return
    from bench import faults

    try:
        results.faults = faults.measure(tuple(args.faults))
    except Exception as error:  # noqa: BLE001
        _record(results, "faults", error)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench")
    add = parser.add_argument
    add("--pairs", type=int, default=20, help="deploy+rollback pairs under load, one host")
    add("--bad-pairs", type=int, default=10, help="pairs on the misconfigured stack")
    add("--rolling-pairs", type=int, default=10, help="rolling deploy+rollback pairs, 3 hosts")
    add(
        "--min-requests",
        type=int,
        default=110_000,
        help="requests the default stack must see in total (half one host, half rolling)",
    )
    add("--lb-pairs", type=int, default=20, help="rolling pairs per balancing method, 3 hosts")
    add("--lb-requests", type=int, default=1_000_000,
        help="requests through the panel's balancer, split evenly over the three methods")
    add("--lb-hosts", type=int, nargs="+", default=[1, 3, 10],
        help="host counts timed for a rolling deploy through the balancer")
    add("--lb-runs", type=int, default=3, help="timed rolling deploys per host count")
    add("--runs", type=int, default=7, help="timed deploys and rollbacks (one host)")
    add("--build-runs", type=int, default=7,
        help="timed unchanged-lock deploys, plain deploys and floor runs (build section)")
    add("--no-capistrano", dest="capistrano", action="store_false", help="skip Capistrano")
    add("--fleet", type=int, nargs="+", default=[1, 3, 10], help="host counts")
    add("--fleet-runs", type=int, default=3, help="timed deploys per host count")
    add("--concurrent", type=int, default=50, help="sites deployed at once")
    # issue 17: p50/p95/p99 at 1,000, 10,000 and 20,000 lines/s (bench/livelog.py).
    add("--live", nargs="+", default=["1000:5", "10000:3", "20000:3"], help="RATE:SECONDS runs")
    add("--panel-deployments", type=int, default=10_000)
    add("--button-runs", type=int, default=7, help="timed Deploy and Rollback button clicks")
    add("--faults", nargs="+", default=list(FAULTS), choices=FAULTS, help="fault drills to run")
    add("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    add("--no-write", action="store_true", help="print only; keep docs/benchmarks.md")
    return parser.parse_args()


def main() -> None:
    args = parse()
    only = set(args.only.split(","))
    started = time.monotonic()
    results = Results(load=[load_average()])
    asyncio.run(one_host(args, results, only))
    asyncio.run(many_hosts(args, results, only))
    results.load.append(load_average())
    django_side(args, results, only)
    results.load.append(load_average())
    fault_drills(args, results, only)
    results.load.append(load_average())
    argv = (
        f"python -m bench --pairs {args.pairs} --bad-pairs {args.bad_pairs} "
        f"--rolling-pairs {args.rolling_pairs} --min-requests {args.min_requests} "
        f"--lb-pairs {args.lb_pairs} --lb-requests {args.lb_requests} "
        f"--lb-hosts {' '.join(map(str, args.lb_hosts))} --lb-runs {args.lb_runs} "
        f"--runs {args.runs} --build-runs {args.build_runs} "
        f"--fleet {' '.join(map(str, args.fleet))} "
        f"--fleet-runs {args.fleet_runs} --concurrent {args.concurrent} "
        f"--live {' '.join(args.live)} --panel-deployments {args.panel_deployments} "
        f"--button-runs {args.button_runs}"
        + ("" if args.capistrano else " --no-capistrano")
        + (f" --faults {' '.join(args.faults)}" if args.faults != list(FAULTS) else "")
        + (f" --only {args.only}" if only != set(SECTIONS) else "")
    )
    text = render(results, time.monotonic() - started, argv)
    print(text)
    if not args.no_write:
        # A partial run (--only) rewrites its own sections and keeps the others as they were.
        previous = DOC.read_text() if DOC.exists() else ""
        DOC.write_text(keep_unmeasured(text, previous))


if __name__ == "__main__":
    main()
