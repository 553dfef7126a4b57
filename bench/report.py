"""Tables and the docs/benchmarks.md text from the measurements."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.build import MARGIN, BuildSpeed
from bench.faults import TARGET_SECONDS, Faults
from bench.lb_rolling import LbRolling
from bench.rolling import Concurrency, FleetScaling
from bench.scenarios import Speed, ZeroDowntime

MISSED, MET = "**missed**", "met"


@dataclass
class Results:
    """Everything one `make bench` run measured; a section that failed has its error instead."""

    zero: list[ZeroDowntime] = field(default_factory=list)
    speed: Speed | None = None
    build: BuildSpeed | None = None
    fleet: FleetScaling | None = None
    concurrency: Concurrency | None = None
    live: dict | None = None
    panel: dict | None = None
    faults: Faults | None = None
    lb: LbRolling | None = None
    button: dict | None = None  # bench/button.py: the button path
    worker_cost: dict | None = None  # bench/button.py: the same run's worker rusage figures
    errors: dict[str, str] = field(default_factory=dict)
    load: list[str] = field(default_factory=list)  # load averages seen during the run


def machine() -> str:
    """CPU, memory, OS, Python and nginx versions of this machine, in one line."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
        platform.processor(),
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory = (
        int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal"))) // 1024**2
    )
    nginx = subprocess.run(["/usr/sbin/nginx", "-v"], capture_output=True, text=True).stderr.strip()
    return (
        f"{os.cpu_count()} × {cpu}, {memory} GiB RAM, {platform.platform()}, "
        f"Python {platform.python_version()}, {nginx}"
    )


def load_average() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


def verdict(ok: bool) -> str:
    return MET if ok else MISSED


def failed_requests(result: ZeroDowntime) -> int:
    s = result.stats
    return s.non_2xx + s.socket_errors + s.truncated + result.stale


def zero_table(results: list[ZeroDowntime]) -> str:
    rows = [
        "| stack | switches | requests | non-2xx | socket errors | no release in body | "
        "stale after switch | releases answered | p50 / p99 outside switches (ms) | "
        "p50 / p99 during switches (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s = r.stats
        idle = [(a, b) for a, b in _gaps(r.windows, s.samples)]
        rows.append(
            f"| {r.label} | {r.switches} | {s.total:,} | {s.non_2xx} | {s.socket_errors} | "
            f"{s.truncated} | {r.stale} | {len(s.releases)} | {s.percentile(0.5, idle):.1f} / "
            f"{s.percentile(0.99, idle):.1f} | {s.percentile(0.5, r.windows):.1f} / "
            f"{s.percentile(0.99, r.windows):.1f} |"
        )
    return "\n".join(rows)


def _gaps(windows: list[tuple[float, float]], samples) -> list[tuple[float, float]]:
    """The stretches of the run outside every switch window ("idle": no switch going on)."""
    if not samples:
        return []
    edges, start = [], samples[0][0]
    for a, b in sorted(windows):
        edges.append((start, a))
        start = b
    edges.append((start, samples[-1][0]))
    return [(a, b) for a, b in edges if b > a]


def zero_summary(results: list[ZeroDowntime]) -> str:
    defaults = [r for r in results if not r.label.startswith("misconfigured")]
    total = sum(r.stats.total for r in defaults)
    failed = sum(failed_requests(r) for r in defaults)
    ok = failed == 0 and total >= 100_000
    return (
        f"Deploynix's defaults (one host and rolling together): **{failed} failed of "
        f"{total:,} requests** — target 0 failed over ≥ 100,000: {verdict(ok)}."
    )


def speed_table(sp: Speed) -> str:
    d, r = sp.median(sp.deploys), sp.median(sp.rollbacks)
    fd, fr = sp.median(sp.floor_deploy), sp.median(sp.floor_rollback)
    cd, cr = sp.median(sp.cap_deploys), sp.median(sp.cap_rollbacks)
    rows = [
        "| operation | Deploynix median (s) | shell floor (s) | Capistrano 3.17 (s) | "
        "Capistrano ÷ Deploynix | target | verdict |",
        "|---|---|---|---|---|---|---|",
        f"| deploy (n={len(sp.deploys)}; cap n={len(sp.cap_deploys)}) | {d:.3f} | "
        f"{fd:.3f} | {cd:.3f} | {cd / d:.2f}× | ≤ 0.8 s and ≥ 3× faster than Capistrano | "
        f"{verdict(d <= 0.8)} / {verdict(cd / d >= 3)} |",
        f"| rollback (n={len(sp.rollbacks)}; cap n={len(sp.cap_rollbacks)}) | "
        f"{r:.3f} | {fr:.3f} | {cr:.3f} | {cr / r:.2f}× | ≤ 0.3 s | {verdict(r <= 0.3)} |",
    ]
    steps = ["", "| deploy step (Deploynix) | median (s) |", "|---|---|"]
    steps += [f"| {step} | {seconds:.3f} |" for step, seconds in sp.step_medians().items()]
    return "\n".join(rows + steps)


# Issue 17: ten hosts at most twice one host's deploy time.
FLEET_TARGET = 2.0


def fleet_table(fleet: FleetScaling) -> str:
    """Before (every host fetches) and after (the seed fetches once) side by side, then the
    phases of the after runs."""
    rows = [
        "| hosts | runs | every host fetches: median (s) | × one host | CPU per host (ms) | "
        "git host CPU (ms) | seed fetches once: median (s) | × one host | CPU per host (ms) | "
        "busiest host (ms) | git host CPU (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    one = min(fleet.seconds)
    for count, seconds in fleet.seconds.items():
        rows.append(
            f"| {count} | {len(seconds)} | {fleet.median_before(count):.3f} | "
            f"{fleet.median_before(count) / fleet.median_before(one):.2f}× | "
            f"{_fleet_ms(fleet, 'each', count, 0)} | {_fleet_ms(fleet, 'each', count, 2)} | "
            f"{fleet.median(count):.3f} | {fleet.median(count) / fleet.median(one):.2f}× | "
            f"{_fleet_ms(fleet, 'once', count, 0)} | {_fleet_ms(fleet, 'once', count, 1)} | "
            f"{_fleet_ms(fleet, 'once', count, 2)} |"
        )
    rows += [
        "",
        "| hosts (seed fetches once) | preparation, all hosts in parallel (s) | "
        "switch: the first host, then the others together (s) | reload, cleanup (s) |",
        "|---|---|---|---|",
    ]
    for count in fleet.seconds:
        phases = fleet.phases[count]
        rows.append(f"| {count} | {phases.get('prepare', 0):.3f} | "
                    f"{phases.get('switch', 0):.3f} | {phases.get('finish', 0):.3f} |")
    biggest = max(fleet.seconds)
    ratio = fleet.median(biggest) / fleet.median(one)
    rows.append(
        f"\n{biggest} hosts take {ratio:.2f}× one host (every host fetching: "
        f"{fleet.median_before(biggest) / fleet.median_before(one):.2f}×) — target "
        f"≤ {FLEET_TARGET:g}×: {verdict(ratio <= FLEET_TARGET)}."
    )
    return "\n".join(rows)


def _fleet_ms(fleet: FleetScaling, mode: str, count: int, which: int) -> str:
    return f"{fleet.cpu_median(mode, count, which) * 1000:.0f}"


def concurrency_table(c: Concurrency) -> str:
    ratios = c.ratios()
    solo, together = list(c.solo.values()), list(c.together.values())
    return "\n".join(
        [
            "| sites | solo deploy, median / max (s) | "
            "all at once: each deploy, median / max (s) | "
            "each ÷ its solo time, median / max | wall time for all (s) | sum of solo times (s) | "
            "worker RSS before → peak (MiB) | failed |",
            "|---|---|---|---|---|---|---|---|",
            f"| {len(c.solo)} | {statistics.median(solo):.2f} / {max(solo):.2f} | "
            f"{statistics.median(together):.2f} / {max(together):.2f} | "
            f"{statistics.median(ratios):.1f}× / {max(ratios):.1f}× | {c.wall:.1f} | "
            f"{sum(solo):.1f} | {c.rss_before_mb:.0f} → {c.rss_peak_mb:.0f} | {len(c.failures)} |",
        ]
    )


# issue 17: p95 line -> browser at each rate (ms); 20,000 lines/s is measured, not targeted.
LIVE_P95_TARGET_MS = {1000: 40, 10000: 100}


def live_table(live: dict) -> str:
    rows = [
        "| lines/s | printed | stored in DB | received on socket | lost | duplicates | "
        "p50 / p95 / p99 / max latency (ms) | target p95 | p95 of it: print → worker / "
        "worker → browser (ms) | CPU per 1,000 lines: worker / daphne (ms) | "
        "largest message: lines, KiB | deploy | socket error seen by the client |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in live["runs"]:
        rows.append(
            f"| {r['rate']:,} | {r['printed']:,} | {r['stored']:,} | {r['received']:,} | "
            f"{r['lost']:,} | {r['duplicates']} | {r['p50_ms']:.0f} / {r['p95_ms']:.0f} / "
            f"{r['p99_ms']:.0f} / {(r['max_ms'] or float('nan')):.0f} | {_live_target(r)} | "
            f"{_hops(r)} | {_cpu_per_1000(r)} | "
            f"{r['largest_message']['lines']:,}, {r['largest_message']['bytes'] / 1024:,.0f} | "
            f"{r['status'][:60]} | "
            f"{r['socket_ended'][:160] or 'no'} |"
        )
    return "\n".join(rows)


def _live_target(run: dict) -> str:
    target = LIVE_P95_TARGET_MS.get(run["rate"])
    if target is None:
        return "—"
    met = run["p95_ms"] <= target and not run["lost"]
    return f"≤ {target}, none lost: {verdict(met)}"


def _hops(run: dict) -> str:
    if "ssh_hop" not in run:  # a run from before the breakdown was measured
        return "—"
    return f"{run['ssh_hop']['p95_ms']:.0f} / {run['panel_hop']['p95_ms']:.0f}"


def _cpu_per_1000(run: dict) -> str:
    if "worker_cpu_ms_per_1000" not in run:
        return "—"
    return f"{run['worker_cpu_ms_per_1000']:.1f} / {run['daphne_cpu_ms_per_1000']:.1f}"


PANEL_TARGET_MS = 50  # issue 17: dashboard, deployments list, site page and history
LOG_PAGE_TARGET_MS = 100  # the deployment page with 100,000 stored lines
TARGETED_PAGES = ("dashboard", "deployments list", "site page", "site history")


def panel_table(panel: dict) -> str:
    rows = [
        "| page | median server time (ms) | max (ms) | median CPU time of the process (ms) | "
        "queries | queries with a tenth of the "
        f"data | target ≤ {PANEL_TARGET_MS} ms, constant queries | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, page in panel["pages"].items():
        small = page.get("queries_small")
        targeted = name in TARGETED_PAGES
        ok = page["median_ms"] <= PANEL_TARGET_MS and small == page["queries"]
        rows.append(
            f"| {name} (`{page['url']}`) | {page['median_ms']:.1f} | "
            f"{page['max_ms']:.1f} | {_ms(page.get('cpu_ms'))} | {page['queries']} | "
            f"{'—' if small is None else small} | "
            f"{'yes' if targeted else 'no target'} | {verdict(ok) if targeted else '—'} |"
        )
    return "\n".join(rows)


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def big_log_table(panel: dict) -> str:
    """The deployment page and the raw download per stored line count (bench/biglog.py)."""
    rows = [
        "| stored lines | deployment page: median / max server time (ms) | CPU time (ms) | "
        "page size (KiB) | "
        f"target ≤ {LOG_PAGE_TARGET_MS} ms at 100,000 | download: time (s) | download size (MiB) | "
        "ASGI body messages | download: peak memory held (MiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for count, run in sorted(panel["log"].items(), key=lambda item: int(item[0])):
        page, download = run["page"], run["download"]
        target = (verdict(page["median_ms"] <= LOG_PAGE_TARGET_MS)
                  if int(count) >= 100_000 else "—")
        rows.append(
            f"| {int(count):,} | {page['median_ms']:.1f} / {page['max_ms']:.1f} | "
            f"{_ms(page.get('cpu_ms'))} | {page['bytes'] / 1024:.0f} | {target} | "
            f"{download['seconds']:.2f} | "
            f"{download['bytes'] / 2**20:.1f} | {download['messages']:,} | "
            f"{download['peak_mib']:.2f} |"
        )
    return "\n".join(rows)


def faults_table(f: Faults) -> str:
    rows = [
        "| fault | where it fell | requests | failed: non-2xx / socket / truncated | "
        "target 0 failed (fault before the switch) | faulted deployment | "
        "fault → faulted deployment ended (s) | fault → next deployment succeeded (s) | "
        f"target ≤ {TARGET_SECONDS} s | `current` = next release |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in f.runs:
        if r.error and r.deployed_again_s is None and not r.requests:
            rows.append(f"| {r.fault} | **drill did not complete:** {_cell(r.error[:300])} "
                        "| | | | | | | | |")
            continue
        zero = verdict(r.failed_requests == 0) if r.before_switch else "no target (after it)"
        error = _cell(r.faulted_error[:120])
        faulted = r.faulted_status + (f": {error}" if error else "")
        again = "never" if r.deployed_again_s is None else f"{r.deployed_again_s:.1f}"
        ok = r.deployed_again_s is not None and r.deployed_again_s <= TARGET_SECONDS
        rows.append(
            f"| {r.fault} | {_cell(r.where)} | {r.requests:,} | **{r.failed_requests}**: "
            f"{r.non_2xx} / {r.socket_errors} / {r.truncated} | {zero} | {faulted} | "
            f"{_seconds(r.faulted_end_s)} | {again} | {verdict(ok)} | "
            f"{'yes' if r.live_is_next else '**no**'} |"
        )
    return "\n".join(rows)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _cell(text: str) -> str:
    """Text that stays in one Markdown table cell (errors carry newlines and pipes)."""
    return " ".join(text.split()).replace("|", "\\|")


BUTTON_TARGET_S = 0.6  # issue 17: click → "Succeeded", one host
WORKER_CPU_TARGET_MS = 60  # issue 17: worker CPU per plain deploy, panel side


def button_table(button: dict) -> str:
    """Click → succeeded frame per button, and its parts (bench/button_figures.py)."""
    rows = [
        "| button | runs | click → \"succeeded\" frame, median (s) | POST answered (s) | "
        "queue pick-up: answer → started_at (s) | pipeline: started_at → last step (s) | "
        f"finish: last step → frame (s) | target ≤ {BUTTON_TARGET_S} s | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    runs = button["button"]
    for name, key in (("Deploy (site page)", "deploy"), ("Rollback (history page)", "rollback")):
        m = runs[f"{key}_medians"]
        worst = max(run["total"] for run in runs[key])
        rows.append(
            f"| {name} | {m['n']} | {m['total']:.3f} (max {worst:.3f}) | {m['post']:.3f} | "
            f"{m['pickup']:+.3f} | {m['pipeline']:.3f} | {m['finish']:.3f} | "
            f"≤ {BUTTON_TARGET_S} | {verdict(m['total'] <= BUTTON_TARGET_S)} |"
        )
    return "\n".join(rows)


def worker_cost_table(measured: dict) -> str:
    """CPU seconds and memory of the real worker process per deployment (its own rusage)."""
    solo = [run["cpu_ms"] for run in measured["button"]["solo"]]
    peak_solo = max(run["maxrss_kib"] for run in measured["button"]["solo"]) / 1024
    rows = [
        "| deployments | CPU per deployment, median / max (ms) | "
        f"target ≤ {WORKER_CPU_TARGET_MS} ms | worker RSS before → peak (MiB) | "
        "wall time (s) | failed |",
        "|---|---|---|---|---|---|",
        f"| one at a time (Deploy button), n={len(solo)} | {statistics.median(solo):.0f} / "
        f"{max(solo):.0f} | {verdict(statistics.median(solo) <= WORKER_CPU_TARGET_MS)} | "
        f"{measured['rss_idle_kib'] / 1024:.0f} → {peak_solo:.0f} | — | 0 |",
    ]
    together = measured.get("together")
    if together:
        rows.append(
            f"| {together['deploys']} at once (worker `-c {together['concurrency']}`) | "
            f"{together['cpu_ms_per_deploy']:.0f} (total {together['cpu_ms_total']:,.0f}) | "
            f"{verdict(together['cpu_ms_per_deploy'] <= WORKER_CPU_TARGET_MS)} | "
            f"{together['rss_before_kib'] / 1024:.0f} → {together['maxrss_kib'] / 1024:.0f} | "
            f"{together['wall_s']:.1f} | {together['failed']} |"
        )
    return "\n".join(rows)
def build_table(b: BuildSpeed) -> str:
    """The built app's deploys next to the plain deploy, the floor and the budget."""
    reused, plain, alone = b.median(b.reused), b.median(b.plain), b.median(b.build_alone)
    cold = b.cold.seconds if b.cold else float("nan")
    steps = b.step_medians(b.reused)
    cold_steps = b.step_medians([b.cold]) if b.cold else {}
    # What the pipeline adds around the build itself: its two build steps minus the build alone.
    around = steps.get("install", 0.0) + steps.get("build_assets", 0.0) - alone
    return "\n".join([
        "| figure | median (s) | target | verdict |",
        "|---|---|---|---|",
        f"| first deploy, cold (composer install, npm ci, vite build; n=1) | {cold:.3f} | "
        "reported | — |",
        f"| unchanged-lock deploy (vendor/ + node_modules reused, vite build; n={len(b.reused)})"
        f" | {reused:.3f} | ≤ plain + {MARGIN} s + build alone = {b.target():.3f} | "
        f"{verdict(reused <= b.target())} |",
        f"| plain demo deploy (no build; n={len(b.plain)}) | {plain:.3f} | reference | — |",
        f"| shell floor, same work as the unchanged-lock deploy (n={len(b.floor)}) | "
        f"{b.median(b.floor):.3f} | reference | — |",
        f"| the app's build alone on the host (`npm run build`; n={len(b.build_alone)}) | "
        f"{alone:.3f} | reference | — |",
        f"| unchanged-lock deploy − plain − build alone | {reused - plain - alone:.3f} | "
        f"≤ {MARGIN} | {verdict(reused - plain - alone <= MARGIN)} |",
        f"| of which the build steps around the build (install + build_assets − build alone) | "
        f"{around:.3f} | reported | — |",
        "",
        "Steps of the unchanged-lock deploy (median s): " + _steps(steps) + ".",
        "",
        "Steps of the plain deploy (median s): " + _steps(b.step_medians(b.plain)) + ".",
        "",
        "Steps of the cold deploy (s): " + _steps(cold_steps) + ".",
        "",
        f"The built site answered after the runs: `{b.page}`.",
    ])


def _steps(durations: dict[str, float]) -> str:
    """The steps that took time (a skipped step takes about none)."""
    return ", ".join(f"{step} {seconds:.3f}" for step, seconds in durations.items()
                     if seconds >= 0.001)
